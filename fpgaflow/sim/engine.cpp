// fpgaflow cycle simulator: a dataflow pipeline of loop schedules connected by bounded FIFOs.
//
// usage: engine PIPELINE.txt FRAMES OUT.json [DEPTHS.txt]
//   DEPTHS.txt: optional "fifo depth" lines overriding the pipeline's FIFO depths
//
// PIPELINE.txt (whitespace separated, written by fpgaflow/sim/pipeline.py):
//   fifos F SRL LAT    then F lines: name depth; a FIFO deeper than SRL makes its tokens readable
//                      LAT cycles later (a block-RAM FIFO's read pipeline)
//   processes P        then per process: name latency slots n_in in_fifo... n_out out_fifo... n_phases
//                      and n_phases lines: count reads[n_in] writes[n_out]
// Every process runs its phase list once per frame, one loop iteration per cycle at most. An
// iteration fires in cycle t when each input FIFO holds enough readable tokens and each output
// FIFO has room; its tokens become readable at t + latency. A token in flight occupies room in
// its FIFO: the room is depth + the producer's slots (the tokens its pipeline registers and output
// queue hold, at least its latency in the kits' RTL).
// All decisions of a cycle use the state at the start of the cycle. When no process can fire
// and no token is in flight, the pipeline is deadlocked: the engine reports who waits on what.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

struct Phase {
    long long count;
    std::vector<int> reads, writes;
};

struct Fifo {
    std::string name;
    long long depth = 2, capacity = 2, extra = 0;
    std::deque<long long> arrivals;  // cycle at which each held token becomes readable, in order
    long long high_water = 0, tokens = 0;
    bool can_read(int n, long long t) const {  // arrivals are in order: the n-th decides
        return (long long)arrivals.size() >= n && arrivals[n - 1] <= t;
    }
};

struct Process {
    std::string name;
    long long latency = 1, slots = 1;
    std::vector<int> in, out;
    std::vector<Phase> phases;
    size_t phase = 0;
    long long left = 0, frame = 0;
    long long busy = 0, stall_in = 0, stall_out = 0, first_fire = -1, last_fire = -1;
    std::vector<long long> frame_done;
    int blocked_fifo = -1;  // why it last stalled
    bool blocked_on_input = false;
    bool done(long long frames) const { return frame >= frames; }
};

static void fail(const char* what) {
    std::fprintf(stderr, "engine: %s\n", what);
    std::exit(2);
}

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) fail("usage: engine PIPELINE.txt FRAMES OUT.json [DEPTHS.txt]");
    FILE* f = std::fopen(argv[1], "r");
    if (!f) fail("cannot open the pipeline file");
    const long long frames = std::atoll(argv[2]);
    char word[512];
    int nf = 0, np = 0;
    long long srl_max = 0, bram_latency = 0;
    if (std::fscanf(f, "%511s %d %lld %lld", word, &nf, &srl_max, &bram_latency) != 4 || std::strcmp(word, "fifos"))
        fail("expected 'fifos F SRL LAT'");
    std::vector<Fifo> fifos(nf);
    for (auto& q : fifos) {
        if (std::fscanf(f, "%511s %lld", word, &q.depth) != 2) fail("bad fifo line");
        q.name = word;
    }
    if (std::fscanf(f, "%511s %d", word, &np) != 2 || std::strcmp(word, "processes")) fail("expected 'processes P'");
    std::vector<Process> procs(np);
    for (auto& p : procs) {
        int n_in, n_out, n_ph;
        if (std::fscanf(f, "%511s %lld %lld %d", word, &p.latency, &p.slots, &n_in) != 4) fail("bad process line");
        p.name = word;
        p.in.resize(n_in);
        for (auto& i : p.in) std::fscanf(f, "%d", &i);
        std::fscanf(f, "%d", &n_out);
        p.out.resize(n_out);
        for (auto& o : p.out) std::fscanf(f, "%d", &o);
        if (std::fscanf(f, "%d", &n_ph) != 1) fail("bad phase count");
        p.phases.resize(n_ph);
        for (auto& ph : p.phases) {
            std::fscanf(f, "%lld", &ph.count);
            ph.reads.resize(n_in);
            ph.writes.resize(n_out);
            for (auto& r : ph.reads) std::fscanf(f, "%d", &r);
            for (auto& w : ph.writes) std::fscanf(f, "%d", &w);
        }
        p.left = p.phases.empty() ? 0 : p.phases[0].count;
    }
    std::fclose(f);
    if (argc == 5) {  // depth overrides, applied before the capacities are derived below
        FILE* d = std::fopen(argv[4], "r");
        if (!d) fail("cannot open the depths file");
        long long depth;
        while (std::fscanf(d, "%511s %lld", word, &depth) == 2)
            for (auto& q : fifos)
                if (q.name == word) q.depth = depth;
        std::fclose(d);
    }
    for (auto& p : procs)
        for (int o : p.out) fifos[o].capacity = fifos[o].depth + p.slots;
    for (auto& q : fifos) q.extra = q.depth > srl_max ? bram_latency : 0;

    long long t = 0;
    const long long limit = 4000000000LL;
    std::vector<char> fire(np);
    bool deadlock = false;
    for (;;) {
        bool all_done = true, any = false;
        for (int k = 0; k < np; k++) {
            Process& p = procs[k];
            fire[k] = 0;
            if (p.done(frames) || p.phases.empty()) continue;
            all_done = false;
            const Phase& ph = p.phases[p.phase];
            bool ok = true;
            for (size_t i = 0; i < p.in.size() && ok; i++)
                if (ph.reads[i] && !fifos[p.in[i]].can_read(ph.reads[i], t)) {
                    ok = false;
                    p.blocked_fifo = p.in[i];
                    p.blocked_on_input = true;
                }
            for (size_t j = 0; j < p.out.size() && ok; j++)
                if (ph.writes[j] && (long long)fifos[p.out[j]].arrivals.size() + ph.writes[j] > fifos[p.out[j]].capacity) {
                    ok = false;
                    p.blocked_fifo = p.out[j];
                    p.blocked_on_input = false;
                }
            fire[k] = ok;
            any |= ok;
            if (!ok) (p.blocked_on_input ? p.stall_in : p.stall_out)++;
        }
        if (all_done) break;
        if (!any) {
            long long next = -1;  // the next token arrival, if any
            for (auto& q : fifos)
                for (long long a : q.arrivals)
                    if (a > t && (next < 0 || a < next)) next = a;
            if (next < 0) {
                deadlock = true;
                break;
            }
            for (auto& p : procs)  // the skipped cycles are stalls too
                if (!p.done(frames) && !p.phases.empty()) (p.blocked_on_input ? p.stall_in : p.stall_out) += next - t - 1;
            t = next;
            continue;
        }
        for (int k = 0; k < np; k++) {
            if (!fire[k]) continue;
            Process& p = procs[k];
            const Phase& ph = p.phases[p.phase];
            for (size_t i = 0; i < p.in.size(); i++)
                for (int r = 0; r < ph.reads[i]; r++) fifos[p.in[i]].arrivals.pop_front();
            for (size_t j = 0; j < p.out.size(); j++) {
                Fifo& q = fifos[p.out[j]];
                for (int w = 0; w < ph.writes[j]; w++) q.arrivals.push_back(t + p.latency + q.extra);
                q.tokens += ph.writes[j];
                if ((long long)q.arrivals.size() > q.high_water) q.high_water = q.arrivals.size();
            }
            p.busy++;
            if (p.first_fire < 0) p.first_fire = t;
            p.last_fire = t;
            if (--p.left == 0) {
                if (++p.phase == p.phases.size()) {
                    p.phase = 0;
                    p.frame++;
                    p.frame_done.push_back(t + p.latency);
                }
                p.left = p.phases[p.phase].count;
            }
        }
        if (++t > limit) fail("cycle limit exceeded");
    }

    FILE* o = std::fopen(argv[3], "w");
    if (!o) fail("cannot write the result");
    std::fprintf(o, "{\"cycles\": %lld, \"deadlock\": %s,\n \"processes\": [\n", t, deadlock ? "true" : "false");
    for (int k = 0; k < np; k++) {
        const Process& p = procs[k];
        std::fprintf(o, "  {\"name\": \"%s\", \"busy\": %lld, \"stall_in\": %lld, \"stall_out\": %lld, "
                        "\"first_fire\": %lld, \"last_fire\": %lld, \"frames\": %lld, \"waiting_on\": \"%s\", "
                        "\"waiting_for\": \"%s\", \"frame_done\": [",
                     p.name.c_str(), p.busy, p.stall_in, p.stall_out, p.first_fire, p.last_fire, p.frame,
                     p.blocked_fifo >= 0 ? fifos[p.blocked_fifo].name.c_str() : "",
                     p.blocked_fifo < 0 ? "" : p.blocked_on_input ? "input" : "room");
        for (size_t i = 0; i < p.frame_done.size(); i++) std::fprintf(o, "%s%lld", i ? ", " : "", p.frame_done[i]);
        std::fprintf(o, "]}%s\n", k + 1 < np ? "," : "");
    }
    std::fprintf(o, " ],\n \"fifos\": [\n");
    for (int k = 0; k < nf; k++)
        std::fprintf(o, "  {\"name\": \"%s\", \"depth\": %lld, \"high_water\": %lld, \"tokens\": %lld}%s\n",
                     fifos[k].name.c_str(), fifos[k].depth, fifos[k].high_water, fifos[k].tokens, k + 1 < nf ? "," : "");
    std::fprintf(o, " ]\n}\n");
    std::fclose(o);
    return deadlock ? 3 : 0;
}
