// fpgaflow: AXI4-Stream words -> tokens (hls_templates/fpgaflow/axis.h's axis_to_tokens).
//
// A token of WIDTH elements of ELEM_BITS bits arrives in WORDS words of WORD_BITS bits, PER_WORD
// elements per word from bit 0 up; TOKENS tokens make a frame. With each frame's last word the
// word's TLAST goes into the batch-end flag stream (one flag per frame).
module fpgaflow_axis_in #(parameter WORD_BITS = 8, WORDS = 1, PER_WORD = 1, ELEM_BITS = 8, WIDTH = 1, TOKENS = 1) (
    input  wire clk, rst_n,
    input  wire [WORD_BITS-1:0]       s_axis_tdata,
    input  wire                       s_axis_tvalid,
    output wire                       s_axis_tready,
    input  wire                       s_axis_tlast,
    output wire [WIDTH*ELEM_BITS-1:0] out_data,
    output reg                        out_valid,
    input  wire                       out_ready,
    output wire                       flag_data,
    output wire                       flag_valid,
    input  wire                       flag_ready
);
    localparam PB = PER_WORD * ELEM_BITS;  // payload bits of a word
    localparam WW = WORDS > 1 ? $clog2(WORDS) : 1;
    localparam TW = TOKENS > 1 ? $clog2(TOKENS) : 1;
    reg [WORDS*PB-1:0] buffer;  // the token being assembled
    reg [WORDS*PB-1:0] token;
    reg [WW-1:0] w;
    reg [TW-1:0] t;
    wire word_last = w == WORDS - 1;
    wire frame_last = word_last && t == TOKENS - 1;
    assign s_axis_tready = (!word_last || !out_valid || out_ready) && (!frame_last || flag_ready);
    wire take = s_axis_tvalid && s_axis_tready;
    assign flag_valid = take && frame_last;
    assign flag_data = s_axis_tlast;
    assign out_data = token[WIDTH*ELEM_BITS-1:0];

    reg [WORDS*PB-1:0] next;
    always @* begin
        next = buffer;
        next[w*PB +: PB] = s_axis_tdata[PB-1:0];
    end

    always @(posedge clk)
        if (!rst_n) begin
            w <= 0; t <= 0; out_valid <= 1'b0;
        end else begin
            if (out_valid && out_ready) out_valid <= 1'b0;
            if (take) begin
                buffer <= next;
                w <= word_last ? 0 : w + 1;
                if (word_last) begin
                    token <= next;
                    out_valid <= 1'b1;
                    t <= t == TOKENS - 1 ? 0 : t + 1;
                end
            end
        end
endmodule
