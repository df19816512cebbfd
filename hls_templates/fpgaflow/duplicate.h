// fpgaflow: stream duplication, one token in and the same token out on both outputs per cycle.
#ifndef FPGAFLOW_DUPLICATE_H
#define FPGAFLOW_DUPLICATE_H

#include "fpgaflow/stream.h"
#include "fpgaflow/types.h"

namespace fpgaflow {

// What duplicate<CFG> reads from its config (the generated <layer>_config derives from this).
struct duplicate_config {
    static const int width = 1, tokens = 0;  // elements per token, tokens per frame
    // typedefs: elem_t
};

template <class CFG>
void duplicate(stream<vec<typename CFG::elem_t, CFG::width> >& in, stream<vec<typename CFG::elem_t, CFG::width> >& out0,
               stream<vec<typename CFG::elem_t, CFG::width> >& out1) {
    typedef vec<typename CFG::elem_t, CFG::width> token_t;
    for (unsigned t = 0; t < CFG::tokens; t++) {
#pragma HLS PIPELINE II = 1
        const token_t x = in.read();
        out0.write(x);
        out1.write(x);
    }
}

}  // namespace fpgaflow

#endif
