// fpgaflow: vector unit for depthwise convolution.
//
// Windows arrive in (ky, kx, channel-fold) order, PE channels per token; channel c = cf*PE + pe
// accumulates x * weights[pe][cf][k] over the K window positions, then (optionally) goes
// through its thresholds.
#ifndef FPGAFLOW_VECTOR_UNIT_H
#define FPGAFLOW_VECTOR_UNIT_H

#include "fpgaflow/mvau.h"
#include "fpgaflow/stream.h"
#include "fpgaflow/thresholding.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

template <class CFG, class ACT>
void vector_unit_loop(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                      const typename CFG::weights_t weights[CFG::pe][CFG::cf][CFG::window], const ACT& act) {
    typename CFG::acc_t acc[CFG::cf][CFG::pe];
    for (unsigned p = 0; p < CFG::pixels; p++) {
        for (unsigned k = 0; k < CFG::window; k++) {
            for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
                vec<typename CFG::in_t, CFG::pe> x = in.read();
                for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
                    typename CFG::product_t prod = CFG::product::template mul<typename CFG::product_t>(
                        decode_input<CFG>(x[e]), weights[e][c][k]);
                    acc[c][e] = (k == 0 ? typename CFG::acc_t(0) : acc[c][e]) + prod;
                }
            }
        }
        for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
            vec<typename CFG::out_t, CFG::pe> y;
            for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
                check_acc<CFG>(acc[c][e], CFG::name());
                y[e] = act(acc[c][e], e, c);
            }
            out.write(y);
        }
    }
}

template <class CFG>
void vector_unit(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                 const typename CFG::weights_t weights[CFG::pe][CFG::cf][CFG::window]) {
    vector_unit_loop<CFG>(in, out, weights, pass_accumulator<CFG>());
}

template <class CFG>
void vector_unit(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                 const typename CFG::weights_t weights[CFG::pe][CFG::cf][CFG::window],
                 const typename CFG::thresholds_t thresholds[CFG::pe][CFG::cf][CFG::num_thresholds]) {
    apply_thresholds<CFG> act = {thresholds};
    vector_unit_loop<CFG>(in, out, weights, act);
}

}  // namespace fpgaflow

#endif
