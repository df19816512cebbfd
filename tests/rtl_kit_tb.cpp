// Testbench of one generated kit (tests/test_rtl_kits.py, tests/test_rtl_joins.py): drives hex input
// tokens from stdin with random valid gaps on every input, stalls every output at random, and prints
// every transfer with its cycle and port index:
//   "I <cycle> <port>" per input token taken, "O <cycle> <hex> <port>" per output token.
// Usage: V<kit> P_GAP P_STALL SEED N_OUT < tokens   (per input port: count, then one hex token per
// line; N_OUT tokens are expected on each output port)
// Built with -CFLAGS -DFPGAFLOW_KIT=V<kit>; ports wider than 64 bits are VlWide arrays. A kit with two
// inputs (in0_*, in1_*) is built with -DFPGAFLOW_INPUTS=2, one with two outputs (out0_*, out1_*)
// with -DFPGAFLOW_OUTPUTS=2 (docs/rtl.md's port names).
#include <cstdint>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "verilated.h"
#define STR2(x) #x
#define STR(x) STR2(x)
#include STR(FPGAFLOW_KIT.h)

typedef std::vector<uint32_t> words_t;

static words_t parse_hex(const std::string& hex) {
    words_t w((hex.size() + 7) / 8 + 1, 0);
    for (size_t i = 0; i < hex.size(); i++) {
        const size_t nib = hex.size() - 1 - i;  // nibble index from the right
        const uint32_t v = std::stoul(hex.substr(i, 1), nullptr, 16);
        w[nib / 8] |= v << (4 * (nib % 8));
    }
    return w;
}

template <class T>
void set_port(T& port, const words_t& w) { port = (T)(w[0] | ((uint64_t)w[1] << 32)); }
template <std::size_t N>
void set_port(VlWide<N>& port, const words_t& w) {
    for (std::size_t i = 0; i < N; i++) port[i] = i < w.size() ? w[i] : 0;
}
template <class T>
std::string hex_of(const T& port) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llx", (unsigned long long)port);
    return buf;
}
template <std::size_t N>
std::string hex_of(const VlWide<N>& port) {
    std::string out;
    char buf[16];
    for (std::size_t i = N; i-- > 0;) {
        std::snprintf(buf, sizeof buf, "%08x", (unsigned)port[i]);
        out += buf;
    }
    return out;
}

#ifndef FPGAFLOW_INPUTS
#define FPGAFLOW_INPUTS 1
#endif
#ifndef FPGAFLOW_OUTPUTS
#define FPGAFLOW_OUTPUTS 1
#endif

// One input port of the kit: its tokens and the next one to send.
struct InPort {
    std::function<void(const words_t&)> set_data;
    CData* valid;
    CData* ready;
    std::vector<words_t> tokens;
    long next = 0;
};
// One output port: the tokens it gave.
struct OutPort {
    std::function<std::string()> data;
    CData* valid;
    CData* ready;
    long got = 0;
};
template <class T>
InPort in_port(T& data, CData& valid, CData& ready) {
    InPort p;
    p.set_data = [&data](const words_t& w) { set_port(data, w); };
    p.valid = &valid;
    p.ready = &ready;
    return p;
}
template <class T>
OutPort out_port(T& data, CData& valid, CData& ready) {
    OutPort p;
    p.data = [&data]() { return hex_of(data); };
    p.valid = &valid;
    p.ready = &ready;
    return p;
}
#if FPGAFLOW_INPUTS == 2
#define KIT_INPUTS(t) {in_port(t.in0_data, t.in0_valid, t.in0_ready), in_port(t.in1_data, t.in1_valid, t.in1_ready)}
#else
#define KIT_INPUTS(t) {in_port(t.in_data, t.in_valid, t.in_ready)}
#endif
#if FPGAFLOW_OUTPUTS == 2
#define KIT_OUTPUTS(t) {out_port(t.out0_data, t.out0_valid, t.out0_ready), out_port(t.out1_data, t.out1_valid, t.out1_ready)}
#else
#define KIT_OUTPUTS(t) {out_port(t.out_data, t.out_valid, t.out_ready)}
#endif

int main(int argc, char** argv) {
    if (argc < 5) return 2;
    const double p_gap = std::atof(argv[1]), p_stall = std::atof(argv[2]);
    std::mt19937 rng(std::atoi(argv[3]));
    const long n_out = std::atol(argv[4]);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    VerilatedContext ctx;
    FPGAFLOW_KIT top(&ctx);
    std::vector<InPort> ins = KIT_INPUTS(top);
    std::vector<OutPort> outs = KIT_OUTPUTS(top);
    long n_in = 0;
    for (InPort& in : ins) {
        long count = 0;
        std::cin >> count;
        in.tokens.resize(count);
        for (long i = 0; i < count; i++) {
            std::string hex;
            std::cin >> hex;
            in.tokens[i] = parse_hex(hex);
        }
        n_in += count;
    }
    top.clk = 0;
    top.rst_n = 0;
    for (InPort& in : ins) *in.valid = 0;
    for (OutPort& out : outs) *out.ready = 0;
    for (int i = 0; i < 4; i++) {
        top.clk = 1; top.eval(); top.clk = 0; top.eval();
    }
    top.rst_n = 1;
    const long n_all = n_out * (long)outs.size();
    long got = 0;
    const long limit = 1000 + 50 * (n_in + n_all) * (long)(1 + 1 / (1.0001 - p_stall) + 1 / (1.0001 - p_gap));
    std::vector<char> in_fire(ins.size());
    for (long cycle = 0; got < n_all && cycle < limit; cycle++) {
        for (InPort& in : ins)
            if (!*in.valid && in.next < (long)in.tokens.size() && uni(rng) >= p_gap) {
                in.set_data(in.tokens[in.next]);
                *in.valid = 1;
            }
        for (OutPort& out : outs) *out.ready = uni(rng) >= p_stall;
        top.eval();
        for (std::size_t i = 0; i < ins.size(); i++) in_fire[i] = *ins[i].valid && *ins[i].ready;
        for (std::size_t o = 0; o < outs.size(); o++)
            if (*outs[o].valid && *outs[o].ready) {
                std::printf("O %ld %s %zu\n", cycle, outs[o].data().c_str(), o);
                outs[o].got++;
                got++;
            }
        top.clk = 1; top.eval(); top.clk = 0; top.eval();
        for (std::size_t i = 0; i < ins.size(); i++)
            if (in_fire[i]) {
                std::printf("I %ld %zu\n", cycle, i);
                *ins[i].valid = 0;
                ins[i].next++;
            }
    }
    top.final();
    bool all = true;
    for (OutPort& out : outs) all = all && out.got == n_out;
    return all ? 0 : 1;
}
