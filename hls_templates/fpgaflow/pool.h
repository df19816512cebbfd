// fpgaflow: pooling over sliding windows, per channel on the integer codes: maximum, or the sum
// (average pooling, whose division stays in the scale or the next quantizer's thresholds).
#ifndef FPGAFLOW_POOL_H
#define FPGAFLOW_POOL_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

template <class CFG>
void pool(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out) {
    vec<typename CFG::out_t, CFG::pe> acc[CFG::cf];
    for (unsigned p = 0; p < CFG::pixels; p++) {
        for (unsigned k = 0; k < CFG::window; k++) {
            for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
                vec<typename CFG::in_t, CFG::pe> x = in.read();
                for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
                    if (k == 0)
                        acc[c][e] = x[e];
                    else if (CFG::is_max)
                        acc[c][e] = x[e] > acc[c][e] ? typename CFG::out_t(x[e]) : acc[c][e];
                    else
                        acc[c][e] += x[e];
                }
            }
        }
        for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
            out.write(acc[c]);
        }
    }
}

}  // namespace fpgaflow

#endif
