// fpgaflow: sliding-window generator (im2col) over an NHWC stream.
//
// For every output pixel it writes the window in (ky, kx, channel-fold) order. A line buffer
// of KH input rows is filled as the windows need them; positions in the padding carry pad_code.
#ifndef FPGAFLOW_SLIDING_WINDOW_H
#define FPGAFLOW_SLIDING_WINDOW_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What sliding_window<CFG> reads from its config (the generated <layer>_config derives from this).
struct sliding_window_config {
    static const int channels = 1, height = 0, width = 0;  // the input map (NHWC)
    static const int kh = 1, kw = 1, sh = 1, sw = 1;       // kernel and stride
    static const int pad_top = 0, pad_left = 0;            // padding before the first row and column
    static const int out_h = 0, out_w = 0;                 // output pixels
    static const int simd = 1, cf = 1;                     // channels per token, tokens per pixel
    static const int pad_code = 0;                         // the code written in padded positions
    // typedefs: elem_t
};

template <class CFG>
void sliding_window(stream<vec<typename CFG::elem_t, CFG::simd> >& in,
                    stream<vec<typename CFG::elem_t, CFG::simd> >& out) {
    typedef vec<typename CFG::elem_t, CFG::simd> token_t;
    token_t rows[CFG::kh][CFG::width][CFG::cf];
    token_t pad;
    for (unsigned s = 0; s < CFG::simd; s++) pad[s] = typename CFG::elem_t(CFG::pad_code);
    int next_row = 0;  // the next input row to read
    for (int oy = 0; oy < CFG::out_h; oy++) {
        int need = oy * CFG::sh - CFG::pad_top + CFG::kh;
        if (need > CFG::height) need = CFG::height;
        for (; next_row < need; next_row++) {
            for (int x = 0; x < CFG::width; x++) {
                for (int c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
                    rows[next_row % CFG::kh][x][c] = in.read();
                }
            }
        }
        for (int ox = 0; ox < CFG::out_w; ox++) {
            for (int ky = 0; ky < CFG::kh; ky++) {
                for (int kx = 0; kx < CFG::kw; kx++) {
                    for (int c = 0; c < CFG::cf; c++) {
#pragma HLS PIPELINE II = 1
                        const int iy = oy * CFG::sh - CFG::pad_top + ky, ix = ox * CFG::sw - CFG::pad_left + kx;
                        const bool inside = iy >= 0 && iy < CFG::height && ix >= 0 && ix < CFG::width;
                        out.write(inside ? rows[iy % CFG::kh][ix][c] : pad);
                    }
                }
            }
        }
    }
    for (; next_row < CFG::height; next_row++) {  // rows below the last window
        for (int x = 0; x < CFG::width * CFG::cf; x++) {
#pragma HLS PIPELINE II = 1
            in.read();
        }
    }
}

}  // namespace fpgaflow

#endif
