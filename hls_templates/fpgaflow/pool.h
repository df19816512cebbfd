// fpgaflow: reductions over sliding windows, per channel on the integer codes.
//
// window_reduce is the loop nest shared with the depthwise vector unit: per output pixel, the
// window's tokens arrive in (position, channel-fold) order, PE channels per token; each channel
// is reduced over the positions, then the channel folds' results are written. Pooling is the
// maximum, or the sum (average pooling, whose division stays in the scale or in the next
// quantizer's thresholds).
#ifndef FPGAFLOW_POOL_H
#define FPGAFLOW_POOL_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What pool<CFG> reads from its config (the generated <layer>_config derives from this).
struct pool_config {
    static const int channels = 1, window = 1, pixels = 0;  // per output pixel, a window of positions
    static const int pe = 1, cf = 1;                        // channels per token, tokens per position
    static const int is_max = 1;                            // 1: maximum, 0: sum
    // typedefs: in_t, out_t
};

// REDUCE::step(acc, x, pe, cf, k) folds one element in (k == 0 starts the window);
// REDUCE::result(acc, pe, cf) is the output element of a reduced channel.
template <class CFG, class ACC, class REDUCE>
void window_reduce(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                   const REDUCE& reduce) {
    ACC acc[CFG::cf][CFG::pe];
    for (unsigned p = 0; p < CFG::pixels; p++) {
        for (unsigned k = 0; k < CFG::window; k++) {
            for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
                vec<typename CFG::in_t, CFG::pe> x = in.read();
                for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
                    acc[c][e] = reduce.step(acc[c][e], x[e], e, c, k);
                }
            }
        }
        for (unsigned c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
            vec<typename CFG::out_t, CFG::pe> y;
            for (unsigned e = 0; e < CFG::pe; e++) {
#pragma HLS UNROLL
                y[e] = reduce.result(acc[c][e], e, c);
            }
            out.write(y);
        }
    }
}

template <class CFG>
struct pool_reduce {
    typedef typename CFG::out_t out_t;
    out_t step(const out_t& acc, const typename CFG::in_t& x, unsigned, unsigned, unsigned k) const {
        if (k == 0) return out_t(x);
        if (CFG::is_max) return x > acc ? out_t(x) : acc;
        return acc + x;
    }
    out_t result(const out_t& acc, unsigned, unsigned) const { return acc; }
};

template <class CFG>
void pool(stream<vec<typename CFG::in_t, CFG::pe> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out) {
    window_reduce<CFG, typename CFG::out_t>(in, out, pool_reduce<CFG>());
}

}  // namespace fpgaflow

#endif
