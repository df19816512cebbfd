// fpgaflow: stream width conversion between layers whose PE and SIMD differ.
//
// Tokens of IN_W elements in, tokens of OUT_W elements out. When one width divides the other,
// one token moves per cycle on the wider side's schedule (combine: one input token per cycle;
// split: one output token per cycle); otherwise one element moves per cycle.
#ifndef FPGAFLOW_WIDTH_CONVERTER_H
#define FPGAFLOW_WIDTH_CONVERTER_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What width_converter<CFG> reads from its config (the generated <layer>_config derives from this).
struct width_converter_config {
    static const int in_width = 1, out_width = 1;  // elements per input and per output token
    static const int elems = 0;                    // elements per frame
    // typedefs: elem_t
};

template <class CFG>
void width_converter(stream<vec<typename CFG::elem_t, CFG::in_width> >& in,
                     stream<vec<typename CFG::elem_t, CFG::out_width> >& out) {
    vec<typename CFG::elem_t, CFG::in_width> x;
    vec<typename CFG::elem_t, CFG::out_width> y;
    if (CFG::out_width % CFG::in_width == 0) {  // combine
        const unsigned parts = CFG::out_width / CFG::in_width;
        for (unsigned t = 0; t < CFG::elems / CFG::in_width; t++) {
#pragma HLS PIPELINE II = 1
            x = in.read();
            for (unsigned e = 0; e < CFG::in_width; e++) {
#pragma HLS UNROLL
                y[(t % parts) * CFG::in_width + e] = x[e];
            }
            if (t % parts == parts - 1) out.write(y);
        }
    } else if (CFG::in_width % CFG::out_width == 0) {  // split
        const unsigned parts = CFG::in_width / CFG::out_width;
        for (unsigned t = 0; t < CFG::elems / CFG::out_width; t++) {
#pragma HLS PIPELINE II = 1
            if (t % parts == 0) x = in.read();
            for (unsigned e = 0; e < CFG::out_width; e++) {
#pragma HLS UNROLL
                y[e] = x[(t % parts) * CFG::out_width + e];
            }
            out.write(y);
        }
    } else {  // element by element
        for (unsigned i = 0; i < CFG::elems; i++) {
#pragma HLS PIPELINE II = 1
            if (i % CFG::in_width == 0) x = in.read();
            y[i % CFG::out_width] = x[i % CFG::in_width];
            if (i % CFG::out_width == CFG::out_width - 1) out.write(y);
        }
    }
}

}  // namespace fpgaflow

#endif
