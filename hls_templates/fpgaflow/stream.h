// fpgaflow: the stream between dataflow processes.
//
// In synthesis this is hls::stream. In C simulation it is a FIFO that counts reads and writes,
// tracks its occupancy high-water mark and fails loudly on a read from an empty stream. The
// C simulation runs the dataflow processes one after the other, so a stream holds a whole
// frame there; the declared depth is what synthesis and the cycle simulator use.
#ifndef FPGAFLOW_STREAM_H
#define FPGAFLOW_STREAM_H

#ifdef __SYNTHESIS__
#include <hls_stream.h>
namespace fpgaflow {
template <class T>
using stream = hls::stream<T>;
}
#else
#include <cstdio>
#include <cstdlib>
#include <deque>
#ifdef FPGAFLOW_STREAM_LOG
#include "fpgaflow/types.h"
#endif

namespace fpgaflow {

#ifdef FPGAFLOW_STREAM_LOG
// Stream event log: every write of every stream, in program order, one line per token
// ("stream v0 v1 ..."), to check the cycle simulator's token sequences against the C++.
inline FILE*& stream_log() {
    static FILE* file = nullptr;
    return file;
}
// Only token streams are logged: the AXI ports and the batch-end flags are outside the simulator's pipeline.
template <class T>
inline void log_token(const char*, const T&) {}
template <class E, unsigned N>
inline void log_token(const char* stream, const vec<E, N>& token) {
    if (!stream_log()) return;
    std::fprintf(stream_log(), "%s", stream);
    for (unsigned i = 0; i < N; i++) std::fprintf(stream_log(), " %lld", (long long)num(token[i]));
    std::fputc('\n', stream_log());
}
#endif

template <class T>
class stream {
   public:
    explicit stream(const char* name = "stream", unsigned depth = 2) : name_(name), depth_(depth) {}

    void write(const T& value) {
#ifdef FPGAFLOW_STREAM_LOG
        log_token(name_, value);
#endif
        fifo_.push_back(value);
        ++writes_;
        if (fifo_.size() > high_water_) high_water_ = fifo_.size();
    }
    T read() {
        if (fifo_.empty()) {
            std::fprintf(stderr, "fpgaflow csim: read from empty stream '%s' after %llu reads\n", name_, reads_);
            std::abort();
        }
        T value = fifo_.front();
        fifo_.pop_front();
        ++reads_;
        return value;
    }
    void read(T& value) { value = read(); }
    bool empty() const { return fifo_.empty(); }
    bool full() const { return fifo_.size() >= depth_; }
    unsigned size() const { return (unsigned)fifo_.size(); }
    unsigned depth() const { return depth_; }
    unsigned long long reads() const { return reads_; }
    unsigned long long writes() const { return writes_; }
    unsigned long long high_water() const { return high_water_; }
    const char* name() const { return name_; }

   private:
    const char* name_;
    unsigned depth_;
    std::deque<T> fifo_;
    unsigned long long reads_ = 0, writes_ = 0, high_water_ = 0;
};

}  // namespace fpgaflow
#endif

#endif
