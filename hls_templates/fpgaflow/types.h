// fpgaflow: element types and helpers shared by all kernels.
//
// Streams and stream elements always use exact-width ap_int/ap_uint types. Constant arrays
// (weights, thresholds) and accumulators use exact-width ap types in synthesis and when
// FPGAFLOW_HW_TYPES is defined; the fast C simulation stores them in native integers instead.
// That is exact: the generator checks every constant against its ap width, and accumulator
// widths come from weight and input bounds, so no value can overflow (csim checks that too).
#ifndef FPGAFLOW_TYPES_H
#define FPGAFLOW_TYPES_H

#include <cstdint>
#include <type_traits>
#include "ap_int.h"

#if defined(__SYNTHESIS__) && !defined(FPGAFLOW_HW_TYPES)
#define FPGAFLOW_HW_TYPES
#endif

#ifndef __SYNTHESIS__
#include <cstdio>
#include <cstdlib>
#endif

namespace fpgaflow {

// A token: N elements moved through a stream together.
template <class T, unsigned N>
struct vec {
    T data[N];
    T& operator[](unsigned i) { return data[i]; }
    const T& operator[](unsigned i) const { return data[i]; }
};

// num(x): a value ready for arithmetic. In hardware builds the ap type itself (exact widths
// for the multipliers); in the C simulation a native integer (fast, same value).
#ifdef __SYNTHESIS__
template <class T>
inline T num(const T& v) { return v; }
#else
template <int W>
inline typename std::conditional<(W <= 32), int, long long>::type num(const ap_int<W>& v) {
    return W <= 32 ? (long long)v.to_int() : v.to_int64();
}
template <int W>
inline typename std::conditional<(W <= 31), int, long long>::type num(const ap_uint<W>& v) {
    return W <= 31 ? (long long)v.to_int() : (long long)v.to_uint64();
}
inline int num(int8_t v) { return v; }
inline int num(int16_t v) { return v; }
inline int num(int32_t v) { return v; }
inline long long num(int64_t v) { return v; }
inline unsigned long long num(uint64_t v) { return v; }
#endif

// Number of set bits among the low N bits of v.
template <int N, class T>
inline int popcount(const T& v) {
#ifdef __SYNTHESIS__
    ap_uint<N> bits = v;
    int count = 0;
    for (int i = 0; i < N; i++) {
#pragma HLS UNROLL
        count += bits[i];
    }
    return count;
#else
    unsigned long long raw = (unsigned long long)num(v);
    if (N < 64) raw &= (1ULL << (N < 64 ? N : 0)) - 1ULL;
    return __builtin_popcountll(raw);
#endif
}

// Largest power of two <= n (n >= 1), for fixed-trip-count binary searches.
// (No recursion: the synthesizable subset has none, constexpr or not.)
constexpr unsigned or_shift(unsigned n, unsigned s) { return n | (n >> s); }
constexpr unsigned floor_pow2(unsigned n) {
    return n < 2 ? 1 : (or_shift(or_shift(or_shift(or_shift(or_shift(n, 1), 2), 4), 8), 16) + 1) >> 1;
}

// The C simulation checks that an accumulator stays inside its declared hardware width.
template <class CFG, class ACC>
inline void check_acc(ACC acc, const char* layer) {
#ifndef __SYNTHESIS__
    if ((long long)acc < CFG::acc_min || (long long)acc > CFG::acc_max) {
        std::fprintf(stderr, "fpgaflow csim: accumulator %lld of %s outside [%lld, %lld]\n", (long long)acc,
                     layer, (long long)CFG::acc_min, (long long)CFG::acc_max);
        std::abort();
    }
#endif
}

// Loop iteration counters of the C simulation (per layer: input-token reads and compute steps),
// written by the testbench so that the cycle estimates can be checked against real trip counts.
#ifndef __SYNTHESIS__
struct loop_count {
    const char* layer;
    unsigned long long reads, steps;
};
inline loop_count* loop_counts() {
    static loop_count table[256] = {};
    return table;
}
inline loop_count& loop_counter(const char* layer) {
    loop_count* table = loop_counts();
    int i = 0;
    while (table[i].layer && table[i].layer != layer && i < 255) i++;
    table[i].layer = layer;
    return table[i];
}
#define FPGAFLOW_COUNT(CFG, FIELD, N) (fpgaflow::loop_counter(CFG::name()).FIELD += (N))
#else
#define FPGAFLOW_COUNT(CFG, FIELD, N)
#endif

}  // namespace fpgaflow

#endif
