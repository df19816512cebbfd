// fpgaflow: element-wise addition of two streams aligned to one scale, PE elements per cycle.
#ifndef FPGAFLOW_ADD_H
#define FPGAFLOW_ADD_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

template <class CFG>
void add_streams(stream<vec<typename CFG::a_t, CFG::pe> >& in_a, stream<vec<typename CFG::b_t, CFG::pe> >& in_b,
                 stream<vec<typename CFG::out_t, CFG::pe> >& out) {
    for (unsigned t = 0; t < CFG::tokens; t++) {
#pragma HLS PIPELINE II = 1
        vec<typename CFG::a_t, CFG::pe> a = in_a.read();
        vec<typename CFG::b_t, CFG::pe> b = in_b.read();
        vec<typename CFG::out_t, CFG::pe> y;
        for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
            typename CFG::out_t wa = a[e], wb = b[e];
            y[e] = (wa << CFG::shift_a) + (wb << CFG::shift_b);
        }
        out.write(y);
    }
}

}  // namespace fpgaflow

#endif
