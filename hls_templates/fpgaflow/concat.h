// fpgaflow: channel concatenation of two NHWC streams, PE elements per cycle.
#ifndef FPGAFLOW_CONCAT_H
#define FPGAFLOW_CONCAT_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

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
