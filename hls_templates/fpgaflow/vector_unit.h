// fpgaflow: vector unit for depthwise convolution.
//
// Windows arrive in (ky, kx, channel-fold) order, PE channels per token; channel c = cf*PE + pe
// accumulates x * weights[pe][cf][k] over the K window positions, then (optionally) goes
// through its thresholds.
#ifndef FPGAFLOW_VECTOR_UNIT_H
#define FPGAFLOW_VECTOR_UNIT_H

#include "fpgaflow/mvau.h"
#include "fpgaflow/pool.h"
#include "fpgaflow/stream.h"
#include "fpgaflow/thresholding.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What vector_unit<CFG> reads from its config (the generated <layer>_config derives from this).
struct vector_unit_config {
    static const char* name() { return "vector_unit"; }
    static const int channels = 1, window = 1, pixels = 0;  // depthwise: each channel its own window
    static const int pe = 1, cf = 1;                        // channels per token, channel folds
    static const int in_bipolar = 0;                        // 1: inputs are -1/+1 (stored as 0/1)
    static const long long acc_min = 0, acc_max = 0;        // accumulator bounds (checked in csim)
    // with thresholds: num_thresholds, out_lo, out_step, out_bipolar, nf (as thresholding_config)
    // typedefs: in_t, out_t, acc_t, product (policy), product_t, in_store_t, weights_t, thresholds_t
};

// Multiply-accumulate over the window, then the activation (thresholds or the raw accumulator).
template <class CFG, class ACT>
struct depthwise_reduce {
    typedef typename CFG::acc_t acc_t;
    const typename CFG::weights_t (*weights)[CFG::cf][CFG::window];
    ACT act;
    acc_t step(const acc_t& acc, const typename CFG::in_t& x, unsigned pe, unsigned cf, unsigned k) const {
        typename CFG::product_t prod =
            CFG::product::template mul<typename CFG::product_t>(decode_input<CFG>(x), weights[pe][cf][k]);
        return (k == 0 ? acc_t(0) : acc) + prod;
    }
    typename CFG::out_t result(const acc_t& acc, unsigned pe, unsigned cf) const {
        check_acc<CFG>(acc, CFG::name());
        return act(acc, pe, cf);
    }
};

template <class CFG, class ACT>
void vector_unit_loop(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                      const typename CFG::weights_t weights[CFG::pe][CFG::cf][CFG::window], const ACT& act) {
    depthwise_reduce<CFG, ACT> reduce = {weights, act};
    window_reduce<CFG, typename CFG::acc_t>(in, out, reduce);
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
