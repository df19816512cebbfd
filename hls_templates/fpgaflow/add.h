// fpgaflow: element-wise addition of two streams aligned to one scale, PE elements per cycle.
#ifndef FPGAFLOW_ADD_H
#define FPGAFLOW_ADD_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What add_streams<CFG> reads from its config (the generated <layer>_config derives from this).
struct add_config {
    static const int pe = 1;      // elements per token on all three streams
    static const int tokens = 0;  // tokens per frame
    static const int shift_a = 0, shift_b = 0;  // left shifts aligning each input to the finer scale
    // typedefs: a_t, b_t (the inputs' element types), out_t (the result's)
};

// The loop of every shift-aligned join: y = OP::apply(a << shift_a, b << shift_b) per element.
template <class CFG, class OP>
void aligned_join(stream<vec<typename CFG::a_t, CFG::pe> >& in_a, stream<vec<typename CFG::b_t, CFG::pe> >& in_b,
                  stream<vec<typename CFG::out_t, CFG::pe> >& out) {
    for (unsigned t = 0; t < CFG::tokens; t++) {
#pragma HLS PIPELINE II = 1
        vec<typename CFG::a_t, CFG::pe> a = in_a.read();
        vec<typename CFG::b_t, CFG::pe> b = in_b.read();
        vec<typename CFG::out_t, CFG::pe> y;
        for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
            typename CFG::out_t wa = a[e], wb = b[e];
            y[e] = OP::apply(typename CFG::out_t(wa << CFG::shift_a), typename CFG::out_t(wb << CFG::shift_b));
        }
        out.write(y);
    }
}

struct add_op {
    template <class T>
    static T apply(const T& a, const T& b) { return a + b; }
};

template <class CFG>
void add_streams(stream<vec<typename CFG::a_t, CFG::pe> >& in_a, stream<vec<typename CFG::b_t, CFG::pe> >& in_b,
                 stream<vec<typename CFG::out_t, CFG::pe> >& out) {
    aligned_join<CFG, add_op>(in_a, in_b, out);
}

}  // namespace fpgaflow

#endif
