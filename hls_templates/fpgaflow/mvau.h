// fpgaflow: matrix-vector unit (MVAU), FINN-style folding, arithmetic chosen per layer.
//
// A frame is VECTORS input vectors (the output pixels of a convolution, 1 for a dense layer),
// each MW inputs, SIMD per token, giving MH outputs, PE per token. Output channel c = nf*PE + pe
// accumulates over input i = sf*SIMD + simd with weights[pe][nf*SF + sf][simd]. The input
// vector is buffered on the first neuron fold and reused by the others. The arithmetic is a
// policy type in the config (CFG::arith): fixed-point MAC with a product policy, or
// XNOR-popcount on packed bipolar words. An optional multi-threshold stage produces the
// activation codes; without it the accumulators are streamed out.
#ifndef FPGAFLOW_MVAU_H
#define FPGAFLOW_MVAU_H

#include "fpgaflow/stream.h"
#include "fpgaflow/thresholding.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What mvau<CFG> reads from its config (the generated <layer>_config derives from this).
struct mvau_config {
    static const char* name() { return "mvau"; }
    static const int mw = 1, mh = 1;          // y = x @ W, W of MW x MH
    static const int pe = 1, simd = 1;        // output channels and inputs per cycle
    static const int nf = 1, sf = 1;          // neuron folds (MH / PE) and synapse folds (MW / SIMD)
    static const int vectors = 1;             // input vectors per frame (output pixels of a conv)
    static const int in_bipolar = 0;          // 1: inputs are -1/+1 (stored as 0/1)
    static const long long acc_min = 0, acc_max = 0;  // accumulator bounds (checked in csim)
    // with thresholds: num_thresholds, out_lo, out_step, out_bipolar (as thresholding_config)
    // typedefs: in_t, out_t, acc_t, arith (xnor<CFG> or mac<CFG>), weights_t, thresholds_t;
    // mac only: product (policy), product_t, in_store_t
};

// What mvau_sparse<CFG> reads besides mvau_config's members.
struct mvau_sparse_config : mvau_config {
    static const int steps = 1;  // compute steps of the longest PE schedule
    static const int iters = 1;  // loop iterations per vector: SF reads, then max(1, steps) per neuron fold
    // typedefs: index_t, nf_end_t
};

// ---- products (P is the exact product type); inputs arrive decoded to integers ----
struct mul_int {  // general multiply
    template <class P, class X, class W>
    static P mul(const X& x, const W& w) {
        return P(num(x) * num(w));
    }
};
struct mul_ternary {  // w in {-1, 0, +1}: select, negate or drop; no multiplier
    template <class P, class X, class W>
    static P mul(const X& x, const W& w) {
#ifdef FPGAFLOW_HW_TYPES
        return num(w) == 0 ? P(0) : num(w) > 0 ? P(num(x)) : P(-num(x));
#else
        return P(num(x) * num(w));  // the same value; vectorizes in the C simulation
#endif
    }
};
template <int EB>
struct mul_shift {  // w = [nonzero | negative | exponent (EB bits)]: x << exponent, signed; no multiplier
    template <class P, class X, class W>
    static P mul(const X& x, const W& w) {
        const int code = num(w);
        const P magnitude = P(num(x)) << (code & ((1 << EB) - 1));
        const P value = ((code >> EB) & 1) ? P(-magnitude) : magnitude;
        return (code >> (EB + 1)) ? value : P(0);
    }
};

// Input element as an integer: bipolar bits become -1/+1.
template <class CFG, class T>
inline typename CFG::in_store_t decode_input(const T& x) {
    return CFG::in_bipolar ? typename CFG::in_store_t(num(x) ? 1 : -1) : typename CFG::in_store_t(num(x));
}

// ---- arithmetic policies ----
// word_t: what one input token becomes; row_t: the weights of one (pe, tile).
template <class CFG>
struct mac {
    // in_store_t is in_t in hardware builds, a native int in the C simulation (decoded once
    // per token, so the dot product runs on plain integers).
    typedef vec<typename CFG::in_store_t, CFG::simd> word_t;
    typedef typename CFG::weights_t row_t[CFG::simd];
    static word_t prepare(const vec<typename CFG::in_t, CFG::simd>& x) {
#pragma HLS INLINE
        word_t w;
        for (unsigned s = 0; s < CFG::simd; s++) {
#pragma HLS UNROLL
            w[s] = decode_input<CFG>(x[s]);
        }
        return w;
    }
    static typename CFG::acc_t dot(const word_t& x, const row_t& w) {
#pragma HLS INLINE
        typename CFG::acc_t sum = 0;
        for (unsigned s = 0; s < CFG::simd; s++) {
#pragma HLS UNROLL
            sum += CFG::product::template mul<typename CFG::product_t>(x[s], w[s]);
        }
        return sum;
    }
    static typename CFG::acc_t finish(typename CFG::acc_t acc) { return acc; }
};

template <class CFG>
struct xnor {
    typedef typename CFG::weights_t word_t;  // SIMD packed bits, bit s = element s, 1 = +1
    typedef typename CFG::weights_t row_t;
    static word_t prepare(const vec<typename CFG::in_t, CFG::simd>& x) {
#pragma HLS INLINE
        word_t bits = 0;
        for (unsigned s = 0; s < CFG::simd; s++) {
#pragma HLS UNROLL
            if (num(x[s])) bits |= word_t(1) << s;
        }
        return bits;
    }
    static typename CFG::acc_t dot(const word_t& x, const row_t& w) {
#pragma HLS INLINE
        return popcount<CFG::simd>(word_t(~(x ^ w)));
    }
    // popcount p of agreeing signs over MW elements: dot product = 2p - MW
    static typename CFG::acc_t finish(typename CFG::acc_t matches) { return 2 * matches - (int)CFG::mw; }
};

// The dense MVAU as one flattened, counter-driven II=1 loop (finn-hlslib's Matrix_Vector_Activate_Batch):
// iteration (v, nf, sf) reads input token sf while nf == 0 (later folds reuse the buffer), adds
// PE dot products of SIMD elements, and at sf == SF - 1 writes one token of PE outputs.
// ACT maps (accumulator, pe, nf) to an output element.
template <class CFG, class OUT, class ACT>
void mvau_loop(stream<vec<typename CFG::in_t, CFG::simd> >& in, stream<vec<OUT, CFG::pe> >& out,
               const typename CFG::arith::row_t weights[CFG::pe][CFG::nf * CFG::sf], const ACT& act) {
    typedef typename CFG::arith A;
    typename A::word_t buffer[CFG::sf];
    typename CFG::acc_t acc[CFG::pe];
#pragma HLS ARRAY_PARTITION variable = acc complete
    unsigned sf = 0, nf = 0;
    for (unsigned i = 0; i < CFG::vectors * CFG::nf * CFG::sf; i++) {
#pragma HLS PIPELINE II = 1
        if (nf == 0) buffer[sf] = A::prepare(in.read());
        for (unsigned pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
            const typename CFG::acc_t base = sf == 0 ? typename CFG::acc_t(0) : acc[pe];
            acc[pe] = base + A::dot(buffer[sf], weights[pe][nf * CFG::sf + sf]);
        }
        if (sf == CFG::sf - 1) {
            vec<OUT, CFG::pe> y;
            for (unsigned pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
                typename CFG::acc_t a = A::finish(acc[pe]);
                check_acc<CFG>(a, CFG::name());
                y[pe] = act(a, pe, nf);
            }
            out.write(y);
            sf = 0;
            nf = nf == CFG::nf - 1 ? 0 : nf + 1;
        } else {
            sf++;
        }
    }
    FPGAFLOW_COUNT(CFG, steps, CFG::vectors * CFG::nf * CFG::sf);
    FPGAFLOW_COUNT(CFG, reads, CFG::vectors * CFG::sf);
}

template <class CFG>
struct pass_accumulator {
    typename CFG::out_t operator()(typename CFG::acc_t a, unsigned, unsigned) const { return typename CFG::out_t(a); }
};

template <class CFG>
struct apply_thresholds {
    const typename CFG::thresholds_t (*table)[CFG::nf][CFG::num_thresholds];
    typename CFG::out_t operator()(typename CFG::acc_t a, unsigned pe, unsigned nf) const {
        return threshold_code<CFG>(a, table[pe][nf]);
    }
};

// MVAU streaming out its accumulators.
template <class CFG>
void mvau(stream<vec<typename CFG::in_t, CFG::simd> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
          const typename CFG::arith::row_t weights[CFG::pe][CFG::nf * CFG::sf]) {
#pragma HLS ARRAY_PARTITION variable = weights complete dim = 1
    mvau_loop<CFG>(in, out, weights, pass_accumulator<CFG>());
}

// MVAU with a fused multi-threshold activation (FINN's MVTU).
template <class CFG>
void mvau(stream<vec<typename CFG::in_t, CFG::simd> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
          const typename CFG::arith::row_t weights[CFG::pe][CFG::nf * CFG::sf],
          const typename CFG::thresholds_t thresholds[CFG::pe][CFG::nf][CFG::num_thresholds]) {
#pragma HLS ARRAY_PARTITION variable = weights complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 1
    apply_thresholds<CFG> act = {thresholds};
    mvau_loop<CFG>(in, out, weights, act);
}

// ---- sparse MVAU: zeros removed at generation time ----
// Stores input token sf of the vector, decoded, into the buffer the PEs index.
template <class CFG>
void store_token(const vec<typename CFG::in_t, CFG::simd>& x, unsigned sf, typename CFG::in_store_t buffer[CFG::mw]) {
    for (unsigned s = 0; s < CFG::simd; s++) {
#pragma HLS UNROLL
        buffer[sf * CFG::simd + s] = decode_input<CFG>(x[s]);
    }
}

// One flattened, counter-driven II=1 loop of CFG::iters iterations per vector: SF iterations read
// the vector into a buffer; then every neuron fold takes one iteration per step of its PEs'
// compressed schedules (SIMD (input index, weight) pairs, padding slots holding weight 0), or one
// iteration when it has no non-zero weight, and writes its PE outputs on its last iteration.
template <class CFG, class OUT, class ACT>
void mvau_sparse_loop(stream<vec<typename CFG::in_t, CFG::simd> >& in, stream<vec<OUT, CFG::pe> >& out,
                      const typename CFG::weights_t weights[CFG::pe][CFG::steps][CFG::simd],
                      const typename CFG::index_t index[CFG::pe][CFG::steps][CFG::simd],
                      const typename CFG::nf_end_t nf_end[CFG::nf], const ACT& act) {
    typename CFG::in_store_t buffer[CFG::mw];
#pragma HLS ARRAY_PARTITION variable = buffer complete
    typename CFG::acc_t acc[CFG::pe];
#pragma HLS ARRAY_PARTITION variable = acc complete
    unsigned sf = 0, nf = 0, step = 0;
    bool reading = true, fresh = true;
    for (unsigned i = 0; i < CFG::vectors * CFG::iters; i++) {
#pragma HLS PIPELINE II = 1
        if (reading) {
            store_token<CFG>(in.read(), sf, buffer);
            reading = sf != CFG::sf - 1;
            sf = reading ? sf + 1 : 0;
            continue;
        }
        const bool work = step < (unsigned)nf_end[nf];
        for (unsigned pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
            typename CFG::acc_t sum = fresh ? typename CFG::acc_t(0) : acc[pe];
            for (unsigned s = 0; s < CFG::simd; s++) {
#pragma HLS UNROLL
                if (work) sum += CFG::product::template mul<typename CFG::product_t>(
                    buffer[num(index[pe][step][s])], weights[pe][step][s]);
            }
            acc[pe] = sum;
        }
        if (work) step++;
        fresh = !work || step == (unsigned)nf_end[nf];
        if (fresh) {  // the fold's last iteration
            vec<OUT, CFG::pe> y;
            for (unsigned pe = 0; pe < CFG::pe; pe++) {
#pragma HLS UNROLL
                check_acc<CFG>(acc[pe], CFG::name());
                y[pe] = act(acc[pe], pe, nf);
            }
            out.write(y);
            reading = nf == CFG::nf - 1;
            nf = reading ? 0 : nf + 1;
            step = reading ? 0 : step;
        }
    }
    FPGAFLOW_COUNT(CFG, reads, CFG::vectors * CFG::sf);
    FPGAFLOW_COUNT(CFG, steps, CFG::vectors * (unsigned)nf_end[CFG::nf - 1]);
}

template <class CFG>
void mvau_sparse(stream<vec<typename CFG::in_t, CFG::simd> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                 const typename CFG::weights_t weights[CFG::pe][CFG::steps][CFG::simd],
                 const typename CFG::index_t index[CFG::pe][CFG::steps][CFG::simd],
                 const typename CFG::nf_end_t nf_end[CFG::nf]) {
    mvau_sparse_loop<CFG>(in, out, weights, index, nf_end, pass_accumulator<CFG>());
}

template <class CFG>
void mvau_sparse(stream<vec<typename CFG::in_t, CFG::simd> >& in, stream<vec<typename CFG::out_t, CFG::pe> >& out,
                 const typename CFG::weights_t weights[CFG::pe][CFG::steps][CFG::simd],
                 const typename CFG::index_t index[CFG::pe][CFG::steps][CFG::simd],
                 const typename CFG::nf_end_t nf_end[CFG::nf],
                 const typename CFG::thresholds_t thresholds[CFG::pe][CFG::nf][CFG::num_thresholds]) {
    apply_thresholds<CFG> act = {thresholds};
    mvau_sparse_loop<CFG>(in, out, weights, index, nf_end, act);
}

}  // namespace fpgaflow

#endif
