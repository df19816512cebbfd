// fpgaflow: stream width conversion, IN_W elements per input token to OUT_W per output token,
// ELEM_BITS bits per element, ELEMS elements per frame (a multiple of both widths).
//
// The schedule of hls_templates/fpgaflow/width_converter.h: when one width divides the other, a
// chunk of min(IN_W, OUT_W) elements moves per cycle (one token per cycle on the wider side's
// schedule); otherwise one element per cycle. Two register stages: the input token, the output token,
// and two output slots (out_data and a spare): a finished token waits in them while the output is
// full, so the converter holds the two tokens the cycle simulator lets it have in flight
// (``pipeline_depth()`` = 2) and keeps assembling the next one meanwhile.
module fpgaflow_width_converter #(parameter IN_W = 1, OUT_W = 1, ELEM_BITS = 1, ELEMS = 1) (
    input  wire clk, rst_n,
    input  wire [IN_W*ELEM_BITS-1:0]  in_data,
    input  wire                       in_valid,
    output wire                       in_ready,
    output reg  [OUT_W*ELEM_BITS-1:0] out_data,
    output reg                        out_valid,
    input  wire                       out_ready
);
    localparam CHUNK = OUT_W % IN_W == 0 ? IN_W : (IN_W % OUT_W == 0 ? OUT_W : 1);
    localparam CB = CHUNK * ELEM_BITS;
    localparam XN = IN_W / CHUNK;   // chunks per input token
    localparam YN = OUT_W / CHUNK;  // chunks per output token
    localparam XW = XN > 1 ? $clog2(XN) : 1;
    localparam YW = YN > 1 ? $clog2(YN) : 1;

    reg [IN_W*ELEM_BITS-1:0] x;
    reg x_valid;
    reg [XW-1:0] xi;  // next chunk of x
    reg [OUT_W*ELEM_BITS-1:0] y;
    reg [YW-1:0] yi;  // next chunk of y
    wire y_last = yi == YN - 1;
    wire x_last = xi == XN - 1;
    reg [OUT_W*ELEM_BITS-1:0] spare;
    reg spare_valid;
    wire pop = out_valid && out_ready;
    wire fire = x_valid && (!y_last || !spare_valid);
    assign in_ready = !x_valid || (fire && x_last);

    reg [OUT_W*ELEM_BITS-1:0] y_next;
    always @* begin
        y_next = y;
        y_next[yi*CB +: CB] = x[xi*CB +: CB];
    end

    always @(posedge clk)
        if (!rst_n) begin
            x_valid <= 1'b0; xi <= 0; yi <= 0; out_valid <= 1'b0; spare_valid <= 1'b0;
        end else begin
            if (pop) begin  // the spare (or nothing) moves up
                out_data <= spare;
                out_valid <= spare_valid;
                spare_valid <= 1'b0;
            end
            if (fire) begin
                xi <= x_last ? 0 : xi + 1;
                yi <= y_last ? 0 : yi + 1;
                y <= y_next;
                if (y_last) begin
                    if (!out_valid || (pop && !spare_valid)) begin
                        out_data <= y_next;
                        out_valid <= 1'b1;
                    end else begin
                        spare <= y_next;
                        spare_valid <= 1'b1;
                    end
                end
                if (x_last) x_valid <= 1'b0;
            end
            if (in_valid && in_ready) begin
                x <= in_data;
                x_valid <= 1'b1;
            end
        end
endmodule
