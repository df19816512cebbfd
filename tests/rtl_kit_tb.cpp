// Testbench of one generated kit (tests/test_rtl_kits.py): drives hex input tokens from stdin with
// random valid gaps, stalls the output at random, and prints every transfer with its cycle:
//   "I <cycle>" per input token taken, "O <cycle> <hex>" per output token.
// Usage: V<kit> P_GAP P_STALL SEED N_OUT < tokens   (tokens: count, then one hex token per line)
// Built with -CFLAGS -DFPGAFLOW_KIT=V<kit>; ports wider than 64 bits are VlWide arrays.
#include <cstdint>
#include <cstdio>
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

int main(int argc, char** argv) {
    if (argc < 5) return 2;
    const double p_gap = std::atof(argv[1]), p_stall = std::atof(argv[2]);
    std::mt19937 rng(std::atoi(argv[3]));
    const long n_out = std::atol(argv[4]);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    long n_in = 0;
    std::cin >> n_in;
    std::vector<words_t> tokens(n_in);
    for (long i = 0; i < n_in; i++) {
        std::string hex;
        std::cin >> hex;
        tokens[i] = parse_hex(hex);
    }
    VerilatedContext ctx;
    FPGAFLOW_KIT top(&ctx);
    top.clk = 0;
    top.rst_n = 0;
    top.in_valid = 0;
    top.out_ready = 0;
    for (int i = 0; i < 4; i++) {
        top.clk = 1; top.eval(); top.clk = 0; top.eval();
    }
    top.rst_n = 1;
    long next = 0, got = 0;
    const long limit = 1000 + 50 * (n_in + n_out) * (long)(1 + 1 / (1.0001 - p_stall) + 1 / (1.0001 - p_gap));
    for (long cycle = 0; got < n_out && cycle < limit; cycle++) {
        if (!top.in_valid && next < n_in && uni(rng) >= p_gap) {
            set_port(top.in_data, tokens[next]);
            top.in_valid = 1;
        }
        top.out_ready = uni(rng) >= p_stall;
        top.eval();
        const bool in_fire = top.in_valid && top.in_ready;
        if (top.out_valid && top.out_ready) {
            std::printf("O %ld %s\n", cycle, hex_of(top.out_data).c_str());
            got++;
        }
        top.clk = 1; top.eval(); top.clk = 0; top.eval();
        if (in_fire) {
            std::printf("I %ld\n", cycle);
            top.in_valid = 0;
            next++;
        }
    }
    top.final();
    return got == n_out ? 0 : 1;
}
