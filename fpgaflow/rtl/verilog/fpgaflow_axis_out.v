// fpgaflow: tokens -> AXI4-Stream words (hls_templates/fpgaflow/axis.h's tokens_to_axis).
//
// Each token of WIDTH elements leaves in WORDS words of WORD_BITS bits, PER_WORD elements per
// word from bit 0 up, unused bits zero. The frame's last token takes the frame's batch-end flag;
// TLAST is that flag on the frame's last word.
module fpgaflow_axis_out #(parameter WORD_BITS = 8, WORDS = 1, PER_WORD = 1, ELEM_BITS = 8, WIDTH = 1, TOKENS = 1) (
    input  wire clk, rst_n,
    input  wire [WIDTH*ELEM_BITS-1:0] in_data,
    input  wire                       in_valid,
    output wire                       in_ready,
    input  wire                       flag_data,
    input  wire                       flag_valid,
    output wire                       flag_ready,
    output reg  [WORD_BITS-1:0]       m_axis_tdata,
    output wire                       m_axis_tvalid,
    input  wire                       m_axis_tready,
    output wire                       m_axis_tlast
);
    localparam PB = PER_WORD * ELEM_BITS;
    localparam WW = WORDS > 1 ? $clog2(WORDS) : 1;
    localparam TW = TOKENS > 1 ? $clog2(TOKENS) : 1;
    reg [WORDS*PB-1:0] token;
    reg token_valid, token_end;
    reg [WW-1:0] w;
    reg [TW-1:0] t;  // the next token to take
    wire word_last = w == WORDS - 1;
    wire frame_token = t == TOKENS - 1;
    wire give = token_valid && m_axis_tready;
    assign in_ready = (!token_valid || (give && word_last)) && (!frame_token || flag_valid);
    wire take = in_valid && in_ready;
    assign flag_ready = take && frame_token;
    reg [WORDS*PB-1:0] padded;  // the input token, unused bits zero
    always @* begin
        m_axis_tdata = {WORD_BITS{1'b0}};
        m_axis_tdata[PB-1:0] = token[w*PB +: PB];
        padded = {WORDS*PB{1'b0}};
        padded[WIDTH*ELEM_BITS-1:0] = in_data;
    end
    assign m_axis_tvalid = token_valid;
    assign m_axis_tlast = token_end && word_last;

    always @(posedge clk)
        if (!rst_n) begin
            token_valid <= 1'b0; w <= 0; t <= 0; token_end <= 1'b0;
        end else begin
            if (give) begin
                w <= word_last ? 0 : w + 1;
                if (word_last) token_valid <= 1'b0;
            end
            if (take) begin
                token <= padded;
                token_valid <= 1'b1;
                token_end <= frame_token && flag_data;
                t <= frame_token ? 0 : t + 1;
            end
        end
endmodule
