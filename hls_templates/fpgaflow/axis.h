// fpgaflow: the accelerator's AXI4-Stream ports (what an AXI DMA sends and receives).
//
// Packing contract (the host driver packs and unpacks the same way):
// - a token of C::width elements of C::elem_bits bits travels in C::words AXI words of
//   C::word_bits bits (a power of two between 8 and 1024);
// - word w holds elements w * per_word ... (w + 1) * per_word - 1, element k of the word in bits
//   [k * elem_bits, (k + 1) * elem_bits): two's complement for signed codes, 1 for +1 and 0 for
//   -1 on bipolar streams; no element straddles two words, and unused bits are zero;
// - a batch is one DMA transfer: TLAST marks the last input word of the batch, and the output
//   adapter sets TLAST on the last output word of the same frame. The flag travels beside the
//   pipeline in a small FIFO (``batch_end``), one entry per frame.
#ifndef FPGAFLOW_AXIS_H
#define FPGAFLOW_AXIS_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

#if defined(__SYNTHESIS__) || defined(__VITIS_HLS__)
#include "ap_axi_sdata.h"
namespace fpgaflow {
template <int W>
using axis_word = ap_axiu<W, 0, 0, 0>;
}
#else
namespace fpgaflow {
// The C simulation's stand-in for ap_axiu<W, 0, 0, 0>: same field names.
template <int W>
struct axis_word {
    ap_uint<W> data;
    ap_uint<(W + 7) / 8> keep;
    ap_uint<(W + 7) / 8> strb;
    ap_uint<1> last;
};
}  // namespace fpgaflow
#endif

namespace fpgaflow {

// AXI words -> tokens for one frame; writes whether the frame ended the batch (TLAST).
// One flattened II=1 loop over the frame's words: a token is written after its last word.
template <class C>
void axis_to_tokens(stream<typename C::word_t>& s_axis, stream<typename C::token_t>& out, stream<bool>& batch_end) {
    bool last = false;
    typename C::token_t token;
    unsigned w = 0;
    for (unsigned i = 0; i < C::tokens * C::words; i++) {
#pragma HLS PIPELINE II = 1
        const typename C::word_t word = s_axis.read();
        last = word.last;
        for (unsigned k = 0; k < C::per_word; k++) {
#pragma HLS UNROLL
            if (w * C::per_word + k < C::width)
                token[w * C::per_word + k].range() = word.data.range(k * C::elem_bits + C::elem_bits - 1, k * C::elem_bits);
        }
        if (w == C::words - 1) {
            out.write(token);
            w = 0;
        } else {
            w++;
        }
    }
    batch_end.write(last);
}

// Tokens -> AXI words for one frame; TLAST on the frame's last word when it ends the batch.
// One flattened II=1 loop over the frame's words: a token is read before its first word.
template <class C>
void tokens_to_axis(stream<typename C::token_t>& in, stream<bool>& batch_end, stream<typename C::word_t>& m_axis) {
    typename C::token_t token;
    bool end = false;
    unsigned w = 0;
    for (unsigned i = 0; i < C::tokens * C::words; i++) {
#pragma HLS PIPELINE II = 1
        if (w == 0) {
            token = in.read();
            // The flag is read with the frame's last token: the input adapter has written it by then
            // unless the frame's last inputs are still unread, and those never wait on this adapter.
            if (i == (C::tokens - 1) * C::words) end = batch_end.read();
        }
        typename C::word_t word;
        word.data = 0;
        for (unsigned k = 0; k < C::per_word; k++) {
#pragma HLS UNROLL
            if (w * C::per_word + k < C::width)
                word.data.range(k * C::elem_bits + C::elem_bits - 1, k * C::elem_bits) = token[w * C::per_word + k].range();
        }
        word.keep = -1;
        word.strb = -1;
        word.last = end && w == C::words - 1;
        m_axis.write(word);
        w = w == C::words - 1 ? 0 : w + 1;
    }
}

#ifndef __SYNTHESIS__
// Testbench helpers: an AXI word from / to its little-endian bytes.
template <class Word, int W>
inline Word word_from_bytes(const unsigned char* bytes) {
    Word word;
    for (int b = 0; b < W / 8; b++) word.data.range(8 * b + 7, 8 * b) = bytes[b];
    word.keep = -1;
    word.strb = -1;
    word.last = 0;
    return word;
}

template <class Word, int W>
inline void word_to_bytes(const Word& word, unsigned char* bytes) {
    for (int b = 0; b < W / 8; b++) bytes[b] = (unsigned char)word.data.range(8 * b + 7, 8 * b).to_uint();
}
#endif

}  // namespace fpgaflow

#endif
