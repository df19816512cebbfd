// fpgaflow: channel concatenation of two NHWC streams, PE elements per cycle.
#ifndef FPGAFLOW_CONCAT_H
#define FPGAFLOW_CONCAT_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What concat_streams<CFG> reads from its config (the generated <layer>_config derives from this).
struct concat_config {
    static const int pe = 1;                  // channels per token
    static const int pixels = 0;              // pixels per frame
    static const int fold_a = 0, fold_b = 0;  // tokens per pixel taken from input a, then from b
    // typedefs: a_t, b_t (the inputs' element types), out_t
};

template <class T, class S, unsigned N>
inline vec<T, N> widen(const vec<S, N>& x) {
    vec<T, N> y;
    for (unsigned e = 0; e < N; e++) {
#pragma HLS UNROLL
        y[e] = x[e];
    }
    return y;
}

template <class CFG>
void concat_streams(stream<vec<typename CFG::a_t, CFG::pe> >& in_a, stream<vec<typename CFG::b_t, CFG::pe> >& in_b,
                    stream<vec<typename CFG::out_t, CFG::pe> >& out) {
    for (unsigned p = 0; p < CFG::pixels; p++) {
        for (unsigned c = 0; c < CFG::fold_a + CFG::fold_b; c++) {
#pragma HLS PIPELINE II = 1
            if (c < CFG::fold_a)
                out.write(widen<typename CFG::out_t>(in_a.read()));
            else
                out.write(widen<typename CFG::out_t>(in_b.read()));
        }
    }
}

}  // namespace fpgaflow

#endif
