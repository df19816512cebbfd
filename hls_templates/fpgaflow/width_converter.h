// fpgaflow: stream width conversion between layers whose PE and SIMD differ.
// Moves one element per iteration: tokens of IN_W elements in, tokens of OUT_W elements out.
#ifndef FPGAFLOW_WIDTH_CONVERTER_H
#define FPGAFLOW_WIDTH_CONVERTER_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

template <class CFG>
void width_converter(stream<vec<typename CFG::elem_t, CFG::in_width> >& in,
                     stream<vec<typename CFG::elem_t, CFG::out_width> >& out) {
    vec<typename CFG::elem_t, CFG::in_width> x;
    vec<typename CFG::elem_t, CFG::out_width> y;
    for (unsigned i = 0; i < CFG::elems; i++) {
#pragma HLS PIPELINE II = 1
        if (i % CFG::in_width == 0) x = in.read();
        y[i % CFG::out_width] = x[i % CFG::in_width];
        if (i % CFG::out_width == CFG::out_width - 1) out.write(y);
    }
}

}  // namespace fpgaflow

#endif
