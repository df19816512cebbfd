// fpgaflow: a stream FIFO of DEPTH tokens of WIDTH bits (docs/rtl.md's valid/ready conventions).
//
// DEPTH <= SRL_MAX_DEPTH: a shift register read at the occupancy (Xilinx SRL / LUTRAM).
// Deeper: a simple dual-port RAM with a registered read (block RAM) ahead of a two-token
// output buffer, so a token moves in and one out on every cycle. out_valid is a register. A full
// FIFO also takes a token in the cycle one leaves (in_ready = not full, or a token leaving): the
// room a pop frees is the producer's in the next cycle, as in the cycle simulator's FIFO
// (fpgaflow/sim/engine.cpp: room is the depth plus the producer's pipeline). The FIFO never
// holds more than DEPTH tokens.
module fpgaflow_fifo #(parameter WIDTH = 8, DEPTH = 2, SRL_MAX_DEPTH = 32) (
    input  wire clk, rst_n,
    input  wire [WIDTH-1:0] in_data,
    input  wire             in_valid,
    output wire             in_ready,
    output wire [WIDTH-1:0] out_data,
    output wire             out_valid,
    input  wire             out_ready
);
    localparam AW = DEPTH > 1 ? $clog2(DEPTH) : 1;
    localparam CW = $clog2(DEPTH + 1);
    wire push = in_valid && in_ready;
    wire pop = out_valid && out_ready;
    reg [CW-1:0] count;  // tokens held
    assign in_ready = count < DEPTH || pop;
    always @(posedge clk)
        if (!rst_n) count <= 0;
        else count <= count + push - pop;

    generate
        if (DEPTH <= SRL_MAX_DEPTH) begin : srl
            // One shift register per data bit, read at a variable tap: Yosys and Vivado map each to an SRL.
            wire [AW-1:0] head = count - 1;
            genvar b;
            for (b = 0; b < WIDTH; b = b + 1) begin : lane
                reg [DEPTH-1:0] sr;
                if (DEPTH == 1) begin : one
                    always @(posedge clk) if (push) sr <= in_data[b];
                end else begin : many
                    always @(posedge clk) if (push) sr <= {sr[DEPTH-2:0], in_data[b]};
                end
                assign out_data[b] = sr[head];
            end
            assign out_valid = count != 0;
        end else begin : bram
            (* ram_style = "block" *) reg [WIDTH-1:0] mem [0:DEPTH-1];
            reg [AW-1:0] wptr, rptr;
            reg [CW-1:0] stored;       // tokens in the RAM
            reg inflight;              // a read issued last cycle lands in the buffer now
            reg [WIDTH-1:0] rdata;
            reg [WIDTH-1:0] buf0, buf1;  // output buffer, buf0 the head
            reg [1:0] held;
            wire [1:0] kept = held - pop;
            wire issue = stored != 0 && (kept + inflight) < 2;
            always @(posedge clk) begin
                if (push) mem[wptr] <= in_data;
                if (issue) rdata <= mem[rptr];
            end
            always @(posedge clk)
                if (!rst_n) begin
                    wptr <= 0; rptr <= 0; stored <= 0; inflight <= 1'b0; held <= 0;
                end else begin
                    if (push) wptr <= wptr == DEPTH - 1 ? 0 : wptr + 1;
                    if (issue) rptr <= rptr == DEPTH - 1 ? 0 : rptr + 1;
                    stored <= stored + push - issue;
                    inflight <= issue;
                    held <= kept + inflight;
                    if (pop) buf0 <= buf1;
                    if (inflight) begin
                        if (kept == 0) buf0 <= rdata;
                        else buf1 <= rdata;
                    end
                end
            assign out_data = buf0;
            assign out_valid = held != 0;
        end
    endgenerate
endmodule
