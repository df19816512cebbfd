// fpgaflow: multi-threshold activation.
//
// A channel's output is out_lo + out_step * (number of its thresholds <= acc). Thresholds are
// sorted, so the count is a binary search with a fixed trip count (log2 comparators).
#ifndef FPGAFLOW_THRESHOLDING_H
#define FPGAFLOW_THRESHOLDING_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What thresholding<CFG> reads from its config (the generated <layer>_config derives from this).
struct thresholding_config {
    static const int channels = 1, pe = 1, nf = 1, pixels = 1;  // channels, per token, folds, pixels per frame
    static const int num_thresholds = 1;                        // sorted thresholds per channel
    static const int out_lo = 0, out_step = 1, out_bipolar = 0; // code = out_lo + out_step * (thresholds passed)
    // typedefs: in_t, out_t, thresholds_t
};

template <class CFG, class ACC, class T>
inline typename CFG::out_t threshold_code(ACC acc, const T (&thresholds)[CFG::num_thresholds]) {
#pragma HLS INLINE
    unsigned count = 0;
    for (unsigned step = floor_pow2(CFG::num_thresholds); step > 0; step >>= 1) {
#pragma HLS UNROLL
        if (count + step <= CFG::num_thresholds && num(thresholds[count + step - 1]) <= acc) count += step;
    }
    if (CFG::out_bipolar) return typename CFG::out_t(count);  // bit 1 means +1
    return typename CFG::out_t(CFG::out_lo + CFG::out_step * (int)count);
}

// Standalone thresholding: PE accumulators per token in, PE activation codes per token out, for
// each of the frame's pixels (1 for a vector).
template <class CFG>
void thresholding(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                  const typename CFG::thresholds_t thresholds[CFG::pe][CFG::nf][CFG::num_thresholds]) {
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 1
    for (unsigned i = 0; i < CFG::pixels * CFG::nf; i++) {
#pragma HLS PIPELINE II = 1
        const unsigned nf = i % CFG::nf;
        vec<typename CFG::in_t, CFG::pe> x = in.read();
        vec<typename CFG::out_t, CFG::pe> y;
        for (unsigned pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
            y[pe] = threshold_code<CFG>(num(x[pe]), thresholds[pe][nf]);
        }
        out.write(y);
    }
}

}  // namespace fpgaflow

#endif
