// fpgaflow: element-wise maximum of two streams aligned to one scale, PE elements per cycle.
#ifndef FPGAFLOW_MAX_H
#define FPGAFLOW_MAX_H

#include "fpgaflow/add.h"

namespace fpgaflow {

// max_streams<CFG> reads the same members as add_streams<CFG>: pe, tokens, shift_a, shift_b,
// and the typedefs a_t, b_t, out_t.
struct max_config : add_config {};

// The larger of two aligned codes.
struct max_op { template <class T> static T apply(const T& a, const T& b) { return a > b ? a : b; } };

template <class CFG>
void max_streams(stream<vec<typename CFG::a_t, CFG::pe> >& in_a,
                 stream<vec<typename CFG::b_t, CFG::pe> >& in_b, stream<vec<typename CFG::out_t, CFG::pe> >& out) {
    aligned_join<CFG, max_op>(in_a, in_b, out);
}

}  // namespace fpgaflow

#endif
