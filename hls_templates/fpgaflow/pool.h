// fpgaflow: max pooling over sliding windows (per channel, on the integer codes).
#ifndef FPGAFLOW_POOL_H
#define FPGAFLOW_POOL_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

template <class CFG>
void max_pool(stream<vec<typename CFG::elem_t, CFG::pe> >& in, stream<vec<typename CFG::elem_t, CFG::pe> >& out) {
    vec<typename CFG::elem_t, CFG::pe> best[CFG::cf];
    for (unsigned p = 0; p < CFG::pixels; p++) {
        for (unsigned k = 0; k < CFG::window; k++) {
            for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
                vec<typename CFG::elem_t, CFG::pe> x = in.read();
                for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
                    if (k == 0 || x[e] > best[c][e]) best[c][e] = x[e];
                }
            }
        }
        for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
            out.write(best[c]);
        }
    }
}

}  // namespace fpgaflow

#endif
