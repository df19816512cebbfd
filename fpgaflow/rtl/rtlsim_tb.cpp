// fpgaflow: the Verilator harness of fpgaflow_top (fpgaflow rtlsim).
//
// usage: tb IN.bin OUT.bin CYCLES.txt IN_BYTES OUT_BYTES IN_WORDS OUT_WORDS BATCH_WORDS STALL_PERCENT SEED MAX_CYCLES
//           IDLE_CYCLES
// (IN_BYTES/OUT_BYTES: bytes per s_axis/m_axis word; IN_WORDS/OUT_WORDS: words per frame)
// Drives s_axis with the words of IN.bin (little-endian, the port's word size each), TLAST on
// every BATCH_WORDS-th word and on the last; holds m_axis_tready low on STALL_PERCENT% of the
// cycles (a fixed-seed generator); writes the output words to OUT.bin and to CYCLES.txt the cycle
// of the first input word taken, then per output frame the cycle of its last word and its TLAST,
// and the cycles an output word waited for m_axis_tready (held); with the top's probe_push port
// (FPGAFLOW_PROBES), per stream i "probe i FIRST LAST TOKENS": its first and last token's cycle,
// and "wait i FULL STARVE": the cycles its producer waited for room (probe_full) and its consumer
// for a token (probe_starve). When no token moves on any stream for IDLE_CYCLES cycles with frames
// still inside, the run stops as deadlocked: "deadlock CYCLE", then per stream "state i FULL STARVE
// HELD" (its producer blocked, its consumer waiting, a token held) at that cycle.
// Exit 0 when every frame came out, 3 when MAX_CYCLES passed first, 4 on a deadlock.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "Vfpgaflow_top.h"
#include "verilated.h"

static void set_word(CData& d, const uint8_t* b, int n) { d = n > 0 ? b[0] : 0; }
static void set_word(SData& d, const uint8_t* b, int n) { d = 0; for (int i = 0; i < n; i++) d |= SData(b[i]) << (8 * i); }
static void set_word(IData& d, const uint8_t* b, int n) { d = 0; for (int i = 0; i < n; i++) d |= IData(b[i]) << (8 * i); }
static void set_word(QData& d, const uint8_t* b, int n) { d = 0; for (int i = 0; i < n; i++) d |= QData(b[i]) << (8 * i); }
template <std::size_t W>
static void set_word(VlWide<W>& d, const uint8_t* b, int n) {
    for (std::size_t i = 0; i < W; i++) d[i] = 0;
    for (int i = 0; i < n; i++) d[i / 4] |= EData(b[i]) << (8 * (i % 4));
}
static void get_word(CData d, uint8_t* b, int n) { for (int i = 0; i < n; i++) b[i] = (uint8_t)(d >> (8 * i)); }
static void get_word(SData d, uint8_t* b, int n) { for (int i = 0; i < n; i++) b[i] = (uint8_t)(d >> (8 * i)); }
static void get_word(IData d, uint8_t* b, int n) { for (int i = 0; i < n; i++) b[i] = (uint8_t)(d >> (8 * i)); }
static void get_word(QData d, uint8_t* b, int n) { for (int i = 0; i < n; i++) b[i] = (uint8_t)(d >> (8 * i)); }
template <std::size_t W>
static void get_word(const VlWide<W>& d, uint8_t* b, int n) {
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(d[i / 4] >> (8 * (i % 4)));
}

static uint64_t rng_state;
static uint32_t next_random() {  // xorshift64*
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

// Per stream: the first and last cycle and the count of the tokens entering its FIFO (probe_push),
// the cycles its producer was refused (probe_full) and its consumer starved (probe_starve).
struct Probes {
    std::vector<long> first, last, tokens, full, starve;
    std::vector<uint8_t> bits, full_bits, starve_bits;
    explicit Probes(std::size_t bytes)
        : first(8 * bytes, -1), last(8 * bytes, -1), tokens(8 * bytes, 0), full(8 * bytes, 0), starve(8 * bytes, 0),
          bits(bytes), full_bits(bytes), starve_bits(bytes) {}
    static bool bit(const std::vector<uint8_t>& b, std::size_t i) { return b[i / 8] >> (i % 8) & 1; }
    template <class T>
    bool sample(const T& push, const T& full_port, const T& starve_port, long cycle) {  // true: a token moved
        get_word(push, bits.data(), (int)bits.size());
        get_word(full_port, full_bits.data(), (int)bits.size());
        get_word(starve_port, starve_bits.data(), (int)bits.size());
        bool moved = false;
        for (std::size_t i = 0; i < first.size(); i++) {
            full[i] += bit(full_bits, i);
            starve[i] += bit(starve_bits, i);
            if (bit(bits, i)) {
                if (first[i] < 0) first[i] = cycle;
                last[i] = cycle;
                tokens[i]++;
                moved = true;
            }
        }
        return moved;
    }
    void write(FILE* f) const {
        for (std::size_t i = 0; i < first.size(); i++) {
            if (tokens[i]) std::fprintf(f, "probe %zu %ld %ld %ld\n", i, first[i], last[i], tokens[i]);
            if (full[i] || starve[i]) std::fprintf(f, "wait %zu %ld %ld\n", i, full[i], starve[i]);
        }
    }
    void write_state(FILE* f) const {  // the streams' state in the last sampled cycle
        for (std::size_t i = 0; i < first.size(); i++)
            std::fprintf(f, "state %zu %d %d\n", i, (int)bit(full_bits, i), (int)bit(starve_bits, i));
    }
};

static bool read_file(const char* path, std::vector<uint8_t>& data) {
    FILE* f = std::fopen(path, "rb");
    if (!f) { std::perror(path); return false; }
    for (int c; (c = std::fgetc(f)) != EOF;) data.push_back((uint8_t)c);
    std::fclose(f);
    return true;
}

int main(int argc, char** argv) {
    if (argc != 13) { std::fprintf(stderr, "usage: %s IN OUT CYCLES IN_BYTES OUT_BYTES IN_WORDS OUT_WORDS BATCH STALL SEED MAX IDLE\n", argv[0]); return 2; }
    const int ib = std::atoi(argv[4]), ob = std::atoi(argv[5]);
    const long in_words = std::atol(argv[6]), out_words = std::atol(argv[7]);
    const long batch = std::atol(argv[8]), stall = std::atol(argv[9]);
    rng_state = std::strtoull(argv[10], nullptr, 10) * 0x9E3779B97F4A7C15ULL + 1;
    const long max_cycles = std::atol(argv[11]), idle_cycles = std::atol(argv[12]);
    Verilated::commandArgs(1, argv);
    Vfpgaflow_top top;
    std::vector<uint8_t> input;
    if (!read_file(argv[1], input)) return 2;
    const long n_in = (long)input.size() / ib;
    const long frames = n_in / in_words;
    std::vector<uint8_t> output((size_t)(frames * out_words * ob));
    FILE* fc = std::fopen(argv[3], "w");
    if (!fc) { std::perror(argv[3]); return 2; }
    top.clk = 0; top.rst_n = 0; top.s_axis_tvalid = 0; top.m_axis_tready = 0;
    for (int i = 0; i < 4; i++) { top.clk = 0; top.eval(); top.clk = 1; top.eval(); }
    top.rst_n = 1;
    long taken = 0, given = 0, first_in = -1, cycle = 0, held = 0, last_move = 0;
    bool deadlock = false;
    Probes probes(sizeof(top.probe_push));
    for (; cycle < max_cycles && given < frames * out_words; cycle++) {
        top.clk = 0;
        top.eval();
        top.s_axis_tvalid = taken < n_in;
        if (taken < n_in) set_word(top.s_axis_tdata, &input[(size_t)(taken * ib)], ib);
        top.s_axis_tlast = taken == n_in - 1 || (batch > 0 && (taken + 1) % batch == 0);
        top.m_axis_tready = (long)(next_random() % 100) >= stall;
        top.eval();
        const bool in_fire = top.s_axis_tvalid && top.s_axis_tready;
        held += top.m_axis_tvalid && !top.m_axis_tready;
        if (probes.sample(top.probe_push, top.probe_full, top.probe_starve, cycle) ||
            (top.m_axis_tvalid && top.m_axis_tready))
            last_move = cycle;
        else if (cycle - last_move > idle_cycles) {
            deadlock = true;
            break;
        }
        if (top.m_axis_tvalid && top.m_axis_tready) {
            get_word(top.m_axis_tdata, &output[(size_t)(given * ob)], ob);
            if ((given + 1) % out_words == 0) std::fprintf(fc, "%ld %d\n", cycle, (int)top.m_axis_tlast);
            else if (top.m_axis_tlast) std::fprintf(fc, "stray_tlast %ld\n", given);
            given++;
        }
        if (in_fire && first_in < 0) first_in = cycle;
        top.clk = 1;
        top.eval();
        if (in_fire) taken++;
    }
    std::fprintf(fc, "first_in %ld\ncycles %ld\nheld %ld\n", first_in, cycle, held);
    probes.write(fc);
    if (deadlock) {
        std::fprintf(fc, "deadlock %ld\n", cycle);
        probes.write_state(fc);
    }
    std::fclose(fc);
    FILE* fo = std::fopen(argv[2], "wb");
    if (!fo) { std::perror(argv[2]); return 2; }
    std::fwrite(output.data(), 1, (size_t)(given * ob), fo);
    std::fclose(fo);
    top.final();
    return given == frames * out_words ? 0 : deadlock ? 4 : 3;
}
