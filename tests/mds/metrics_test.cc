// The MDS's Prometheus metrics (mds/metrics.h): the text format (cumulative
// histogram buckets, label and help escaping, value formatting), the HTTP
// answers, concurrent updates; then real MDS processes with --metrics,
// scraped over a plain socket and parsed line by line: every advertised
// metric present, counters and gauges moving under load, a standby's gauges
// and the same endpoint after its takeover, garbage, oversized and silent
// peers on the metrics port, and a busy metrics address (exit 2).
#define BOOST_TEST_MODULE metrics_test
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "client/client.h"
#include "mds/metrics.h"
#include "proto/net.h"
#include "tests/mds/client_checks.h"
#include "tests/mds/mds_test_util.h"

using namespace baton;
using namespace baton::testing;
using baton::mds::MetricsRegistry;

namespace {

using Clock = std::chrono::steady_clock;

// Every metric family README.md advertises, with its type.
const std::map<std::string, std::string> kAdvertised = {
    {"baton_mds_start_time_seconds", "gauge"},
    {"baton_mds_role", "gauge"},
    {"baton_mds_epoch", "gauge"},
    {"baton_mds_sessions", "gauge"},
    {"baton_mds_ops_total", "counter"},
    {"baton_mds_journal_records_total", "counter"},
    {"baton_mds_journal_bytes_total", "counter"},
    {"baton_mds_journal_group_commits_total", "counter"},
    {"baton_mds_group_commit_records", "histogram"},
    {"baton_mds_journal_fsync_seconds", "histogram"},
    {"baton_mds_apply_seconds", "histogram"},
    {"baton_mds_applied_lsn", "gauge"},
    {"baton_mds_durable_lsn", "gauge"},
    {"baton_mds_standby_lag_records", "gauge"},
    {"baton_mds_checkpoints_total", "counter"},
};

// ---- A strict parser of the text format (a second opinion on Expose) ----

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped values
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helps;                // families with a HELP line
  std::map<std::string, double> values;       // Key(sample) -> value
  std::vector<Sample> samples;                // in order
};

// "name" or "name{a=x,b=y}" (labels as written, values unescaped).
std::string Key(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels) {
  if (labels.empty()) return name;
  std::string k = name + "{";
  for (size_t i = 0; i < labels.size(); i++) k += (i ? "," : "") + labels[i].first + "=" + labels[i].second;
  return k + "}";
}

bool ParseValue(const std::string& s, double* v) {
  if (s == "+Inf") return *v = INFINITY, true;
  if (s == "-Inf") return *v = -INFINITY, true;
  if (s == "NaN") return *v = NAN, true;
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool IsNameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Parses one sample line; false (with *why) when it is not well formed.
bool ParseSample(const std::string& line, Sample* s, std::string* why) {
  size_t i = 0;
  while (i < line.size() && IsNameChar(line[i], i == 0)) i++;
  if (i == 0) return *why = "no metric name", false;
  s->name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    i++;
    while (i < line.size() && line[i] != '}') {
      size_t n0 = i;
      while (i < line.size() && IsNameChar(line[i], i == n0) && line[i] != ':') i++;
      if (i == n0 || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return *why = "bad label", false;
      std::string lname = line.substr(n0, i - n0), lvalue;
      for (i += 2; i < line.size() && line[i] != '"'; i++) {
        if (line[i] != '\\') {
          lvalue += line[i];
          continue;
        }
        if (++i >= line.size()) return *why = "escape at end", false;
        if (line[i] == 'n') lvalue += '\n';
        else if (line[i] == '\\' || line[i] == '"') lvalue += line[i];
        else return *why = "bad escape", false;
      }
      if (i >= line.size()) return *why = "unterminated label value", false;
      i++;  // the closing quote
      s->labels.emplace_back(lname, lvalue);
      if (i < line.size() && line[i] == ',') i++;
    }
    if (i >= line.size()) return *why = "unterminated labels", false;
    i++;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') return *why = "no space before the value", false;
  std::string rest = line.substr(i + 1);
  std::string value = rest.substr(0, rest.find(' '));  // a timestamp may follow
  if (!ParseValue(value, &s->value)) return *why = "bad value '" + value + "'", false;
  return true;
}

// The family a sample belongs to (histogram samples carry a suffix).
std::string FamilyOf(const Exposition& e, const std::string& name) {
  if (e.types.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string sfx = suffix;
    if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      std::string base = name.substr(0, name.size() - sfx.size());
      auto it = e.types.find(base);
      if (it != e.types.end() && it->second == "histogram") return base;
    }
  }
  return "";
}

// Buckets of each histogram child: le ascending, counts cumulative, the last
// +Inf and equal to _count.
void CheckHistograms(const Exposition& e) {
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;  // child key -> (le, count)
  for (const Sample& s : e.samples) {
    if (s.name.size() < 7 || s.name.compare(s.name.size() - 7, 7, "_bucket") != 0) continue;
    auto labels = s.labels;
    BOOST_REQUIRE_MESSAGE(!labels.empty() && labels.back().first == "le", s.name << ": le is not the last label");
    double le = 0;
    BOOST_REQUIRE(ParseValue(labels.back().second, &le));
    labels.pop_back();
    buckets[Key(s.name.substr(0, s.name.size() - 7), labels)].emplace_back(le, s.value);
  }
  for (const auto& [child, bs] : buckets) {
    BOOST_TEST_CONTEXT(child) {
      BOOST_REQUIRE(!bs.empty());
      for (size_t i = 1; i < bs.size(); i++) {
        BOOST_TEST(bs[i - 1].first < bs[i].first);
        BOOST_TEST(bs[i - 1].second <= bs[i].second);  // cumulative
      }
      BOOST_TEST(std::isinf(bs.back().first));
      std::string name = child.substr(0, child.find('{'));
      std::string labels = child.size() > name.size() ? child.substr(name.size()) : "";
      auto count = e.values.find(name + "_count" + labels);
      BOOST_REQUIRE(count != e.values.end());
      BOOST_TEST(count->second == bs.back().second);
      BOOST_TEST(e.values.count(name + "_sum" + labels) == 1u);
    }
  }
}

// Parses a whole exposition; fails the test on any malformed line.
Exposition ParseExposition(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  BOOST_REQUIRE_MESSAGE(text.empty() || text.back() == '\n', "exposition does not end with a newline");
  while (std::getline(in, line)) {
    BOOST_REQUIRE_MESSAGE(!line.empty(), "empty line in the exposition");
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      BOOST_REQUIRE_MESSAGE(e.helps.insert(name).second, "second HELP for " << name);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream l(line.substr(7));
      std::string name, type;
      l >> name >> type;
      BOOST_REQUIRE_MESSAGE(type == "counter" || type == "gauge" || type == "histogram", line);
      BOOST_REQUIRE_MESSAGE(e.types.emplace(name, type).second, "second TYPE for " << name);
      continue;
    }
    if (line[0] == '#') continue;  // a comment
    Sample s;
    std::string why;
    BOOST_REQUIRE_MESSAGE(ParseSample(line, &s, &why), "bad sample line '" << line << "': " << why);
    const std::string family = FamilyOf(e, s.name);
    BOOST_REQUIRE_MESSAGE(!family.empty(), "sample before its TYPE line: " << line);
    if (e.types[family] == "counter") BOOST_REQUIRE_MESSAGE(s.value >= 0, line);
    BOOST_REQUIRE_MESSAGE(e.values.emplace(Key(s.name, s.labels), s.value).second, "duplicate series: " << line);
    e.samples.push_back(std::move(s));
  }
  CheckHistograms(e);
  return e;
}

// ---- Talking to the metrics port ----

// Sends `request`, then reads until the server closes (or resets) the
// connection. *closed: it did, within timeout_ms (false: it stayed open).
std::string Exchange(const std::string& addr, const std::string& request, bool* closed = nullptr,
                     int timeout_ms = 10000) {
  StatusOr<int> fd = proto::ConnectTcp(addr, 2000);
  BOOST_REQUIRE_MESSAGE(fd.ok(), fd.status().ToString());
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  proto::WriteAll(*fd, request).PermitUnchecked();  // an oversized request may be cut off by a reset
  std::string out;
  char buf[4096];
  bool ended = false;
  for (;;) {
    ssize_t n = ::recv(*fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    ended = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  proto::CloseFd(*fd);
  if (closed != nullptr) *closed = ended;
  return out;
}

struct HttpResponse {
  std::string status_line;
  std::string content_type;
  std::string body;
};

HttpResponse Get(const std::string& addr, const std::string& path = "/metrics") {
  bool closed = false;
  std::string raw = Exchange(addr, "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/plain\r\n\r\n",
                             &closed);
  BOOST_REQUIRE_MESSAGE(closed, "the metrics server did not close the connection after its answer");
  size_t end = raw.find("\r\n\r\n");
  BOOST_REQUIRE_MESSAGE(end != std::string::npos, "no HTTP head in '" << raw.substr(0, 200) << "'");
  HttpResponse r;
  r.status_line = raw.substr(0, raw.find("\r\n"));
  r.body = raw.substr(end + 4);
  std::istringstream head(raw.substr(0, end));
  std::string line;
  size_t content_length = std::string::npos;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("Content-Type: ", 0) == 0) r.content_type = line.substr(14);
    if (line.rfind("Content-Length: ", 0) == 0) content_length = std::stoul(line.substr(16));
  }
  BOOST_REQUIRE_MESSAGE(content_length == r.body.size(), "Content-Length does not match the body");
  return r;
}

Exposition Scrape(const std::string& addr) {
  HttpResponse r = Get(addr);
  BOOST_REQUIRE_EQUAL(r.status_line, "HTTP/1.1 200 OK");
  BOOST_TEST(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0u);
  return ParseExposition(r.body);
}

double Value(const Exposition& e, const std::string& key) {
  auto it = e.values.find(key);
  BOOST_REQUIRE_MESSAGE(it != e.values.end(), "no series " << key);
  return it->second;
}

void CheckAdvertised(const Exposition& e) {
  for (const auto& [name, type] : kAdvertised) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(e.types.count(name) == 1u);
      if (e.types.count(name)) BOOST_TEST(e.types.at(name) == type);
      BOOST_TEST(e.helps.count(name) == 1u);
      bool has_sample = false;
      for (const Sample& s : e.samples) has_sample = has_sample || FamilyOf(e, s.name) == name;
      BOOST_TEST(has_sample);
    }
  }
  for (const char* role : {"active", "standby", "taking-over"}) {
    Value(e, std::string("baton_mds_role{role=") + role + "}");
  }
  for (const char* op :
       {"mknod", "mkdir", "lookup", "getattr", "write", "read", "fsync", "open", "release", "unknown"}) {
    Value(e, std::string("baton_mds_ops_total{op=") + op + "}");
  }
}

bool Running(MdsProcess& m) { return m.running() && m.WaitExit(0) == -1; }

// Waits until pred(scrape) holds; the last scrape either way.
template <typename Pred>
Exposition ScrapeUntil(const std::string& addr, int timeout_ms, Pred pred) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    Exposition e = Scrape(addr);
    if (pred(e) || Clock::now() > deadline) return e;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

struct ActiveFixture {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess mds{vol, FreeLocalAddress(), 1000};
  std::string metrics;
  ActiveFixture() {
    mds.metrics_address = FreeLocalAddress();
    metrics = mds.metrics_address;
    BOOST_REQUIRE_MESSAGE(mds.Start(), "MDS did not start; see " + mds.stderr_path());
  }
};

// threads x per_thread mknods in dir, each thread on its own session, and
// a lookup after each; returns how many failed.
int Load(const std::string& addr, fs::Ino dir, int threads, int per_thread, const std::string& prefix) {
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&, t] {
      client::ClientOptions o;
      o.call_timeout_ms = 60000;
      auto c = client::Client::Connect({addr}, o);
      if (!c.ok()) {
        failures += per_thread;
        return;
      }
      for (int i = 0; i < per_thread; i++) {
        std::string name = prefix + std::to_string(t) + "-" + std::to_string(i);
        StatusOr<fs::Reply> r = (*c)->Call(CreateReq(dir, name));
        StatusOr<fs::Reply> l = (*c)->Call(LookupReq(dir, name));
        if (!r.ok() || r->err != 0 || !l.ok() || l->err != 0) failures++;
      }
    });
  }
  for (auto& t : ts) t.join();
  return failures.load();
}

}  // namespace

// ---- The text format ----

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative) {
  MetricsRegistry r;
  mds::Histogram* h = r.AddHistogram("t_seconds", "help", {1, 2, 5});
  for (double v : {0.5, 1.0, 3.0, 10.0, 2.0}) h->Observe(v);  // le is inclusive: 1.0 is in le="1"
  mds::Histogram* h2 = r.AddHistogram("t2", "labelled", {0.25}, {{"k", "v"}});
  h2->Observe(0.125);
  const std::string want =
      "# HELP t_seconds help\n"
      "# TYPE t_seconds histogram\n"
      "t_seconds_bucket{le=\"1\"} 2\n"
      "t_seconds_bucket{le=\"2\"} 3\n"
      "t_seconds_bucket{le=\"5\"} 4\n"
      "t_seconds_bucket{le=\"+Inf\"} 5\n"
      "t_seconds_sum 16.5\n"
      "t_seconds_count 5\n"
      "# HELP t2 labelled\n"
      "# TYPE t2 histogram\n"
      "t2_bucket{k=\"v\",le=\"0.25\"} 1\n"
      "t2_bucket{k=\"v\",le=\"+Inf\"} 1\n"
      "t2_sum{k=\"v\"} 0.125\n"
      "t2_count{k=\"v\"} 1\n";
  BOOST_TEST(r.Expose() == want);
  ParseExposition(r.Expose());
  BOOST_TEST((h->CumulativeCounts() == std::vector<uint64_t>{2, 3, 4, 5}));
}

BOOST_AUTO_TEST_CASE(labels_and_help_are_escaped) {
  MetricsRegistry r;
  const std::string nasty = "a\"b\\c\nd";
  r.AddCounter("c_total", "line1\nback\\slash \"quoted\"", {{"path", nasty}, {"x", ""}})->Add(3);
  r.AddCounter("c_total", "ignored: the first help stays", {{"path", "plain"}, {"x", "y"}});
  const std::string text = r.Expose();
  BOOST_TEST(text ==
             "# HELP c_total line1\\nback\\\\slash \"quoted\"\n"
             "# TYPE c_total counter\n"
             "c_total{path=\"a\\\"b\\\\c\\nd\",x=\"\"} 3\n"
             "c_total{path=\"plain\",x=\"y\"} 0\n");
  Exposition e = ParseExposition(text);
  BOOST_TEST(Value(e, "c_total{path=" + nasty + ",x=}") == 3);
  BOOST_TEST(mds::EscapeLabelValue("\\\"\n") == "\\\\\\\"\\n");
  BOOST_TEST(mds::EscapeHelp("\\\"\n") == "\\\\\"\\n");
}

BOOST_AUTO_TEST_CASE(sample_values) {
  BOOST_TEST(mds::FormatSampleValue(0) == "0");
  BOOST_TEST(mds::FormatSampleValue(1e6) == "1000000");
  BOOST_TEST(mds::FormatSampleValue(123456789012345.0) == "123456789012345");
  BOOST_TEST(mds::FormatSampleValue(-3) == "-3");
  BOOST_TEST(mds::FormatSampleValue(0.5) == "0.5");
  BOOST_TEST(mds::FormatSampleValue(INFINITY) == "+Inf");
  BOOST_TEST(mds::FormatSampleValue(-INFINITY) == "-Inf");
  BOOST_TEST(mds::FormatSampleValue(NAN) == "NaN");
  for (double v : {1795847954.532885, 1e-9, 0.1, 1e300, 6.02e23}) {
    double back = 0;
    BOOST_TEST(ParseValue(mds::FormatSampleValue(v), &back));
    BOOST_TEST(back == v);  // exact round trip
  }
  MetricsRegistry r;
  r.AddGauge("g", "a gauge")->Set(-2.5);
  BOOST_TEST(r.Expose() == "# HELP g a gauge\n# TYPE g gauge\ng -2.5\n");
}

BOOST_AUTO_TEST_CASE(concurrent_updates_add_up) {
  MetricsRegistry r;
  mds::Counter* c = r.AddCounter("c_total", "c");
  mds::Histogram* h = r.AddHistogram("h", "h", {1, 10});
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) ParseExposition(r.Expose());  // never torn: _count == +Inf bucket
  });
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&] {
      for (int i = 0; i < 20000; i++) {
        c->Add();
        h->Observe(i % 3 == 0 ? 0.5 : 5);
      }
    });
  }
  for (auto& t : ts) t.join();
  done = true;
  scraper.join();
  BOOST_TEST(c->value() == 80000u);
  BOOST_TEST(h->CumulativeCounts().back() == 80000u);
}

BOOST_AUTO_TEST_CASE(http_answers) {
  MetricsRegistry r;
  r.AddCounter("x_total", "x")->Add(7);
  const std::string body = r.Expose();
  auto answer = [&](const std::string& head, bool complete = true) {
    return mds::MetricsHttpResponse(head, complete, r);
  };
  for (const char* ok : {"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", "GET /metrics HTTP/1.0\n\n",
                         "GET /metrics?name[]=x HTTP/1.1\r\n\r\n"}) {
    std::string a = answer(ok);
    BOOST_TEST_CONTEXT(ok) {
      BOOST_TEST(a.rfind("HTTP/1.1 200 OK\r\n", 0) == 0u);
      BOOST_TEST(a.find("\r\nContent-Type: text/plain; version=0.0.4") != std::string::npos);
      BOOST_TEST(a.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
      BOOST_TEST(a.find("\r\nConnection: close\r\n") != std::string::npos);
      BOOST_TEST(a.substr(a.find("\r\n\r\n") + 4) == body);
    }
  }
  std::string head = answer("HEAD /metrics HTTP/1.1\r\n\r\n");
  BOOST_TEST(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0u);
  BOOST_TEST(head.substr(head.find("\r\n\r\n") + 4).empty());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET / HTTP/1.1\r\n\r\n", "404"},          {"GET /metricsx HTTP/1.1\r\n\r\n", "404"},
      {"GET /metrics/ HTTP/1.1\r\n\r\n", "404"},  {"POST /metrics HTTP/1.1\r\n\r\n", "405"},
      {"garbage\r\n\r\n", "400"},                 {"\r\n\r\n", "400"},
      {"GET /metrics HTTP/2.0\r\n\r\n", "400"},   {"GET  /metrics HTTP/1.1\r\n\r\n", "400"},
      {"get /metrics HTTP/1.1\r\n\r\n", "400"},   {"GET metrics HTTP/1.1\r\n\r\n", "400"},
      {std::string("GET /metrics\0 HTTP/1.1\r\n\r\n", 26), "404"},
      {"GET /metrics HTTP/1.1 extra\r\n\r\n", "400"},
  };
  for (const auto& [req, code] : cases) {
    std::string a = answer(req);
    BOOST_TEST(a.rfind("HTTP/1.1 " + code + " ", 0) == 0u, "request '" << req << "' answered " << a.substr(0, 40));
    BOOST_TEST(a.find("Content-Length: ") != std::string::npos);
  }
  BOOST_TEST(answer(std::string(8192, 'a'), false).rfind("HTTP/1.1 431 ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(mds_metrics_register_what_is_advertised) {
  mds::MdsMetrics m(1234.5);
  std::vector<std::string> names = m.registry().FamilyNames();
  std::set<std::string> registered(names.begin(), names.end());
  std::set<std::string> advertised;
  for (const auto& kv : kAdvertised) advertised.insert(kv.first);
  BOOST_TEST(registered == advertised, "a metric was added or removed: update kAdvertised and README.md");
  m.CountOp(fs::Op::kMknod);
  m.CountOp(static_cast<fs::Op>(12));   // no such op
  m.CountOp(static_cast<fs::Op>(999));  // beyond every op code
  m.SetRole("standby");
  Exposition e = ParseExposition(m.registry().Expose());
  CheckAdvertised(e);
  BOOST_TEST(Value(e, "baton_mds_ops_total{op=mknod}") == 1);
  BOOST_TEST(Value(e, "baton_mds_ops_total{op=unknown}") == 2);
  BOOST_TEST(Value(e, "baton_mds_role{role=standby}") == 1);
  BOOST_TEST(Value(e, "baton_mds_role{role=active}") == 0);
  BOOST_TEST(Value(e, "baton_mds_start_time_seconds") == 1234.5);
}

BOOST_AUTO_TEST_CASE(readme_documents_every_metric) {
  std::ifstream f(std::string(BATON_SOURCE_DIR) + "/README.md");
  BOOST_REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  for (const auto& [name, type] : kAdvertised) {
    BOOST_TEST(ss.str().find("`" + name + "`") != std::string::npos, name << " is not documented in README.md");
  }
}

// ---- A real MDS ----

BOOST_FIXTURE_TEST_CASE(scrape_under_load, ActiveFixture) {
  auto t0 = Clock::now();
  Exposition before = Scrape(metrics);
  CheckAdvertised(before);
  BOOST_TEST(Value(before, "baton_mds_role{role=active}") == 1);
  BOOST_TEST(Value(before, "baton_mds_role{role=standby}") == 0);
  BOOST_TEST(Value(before, "baton_mds_role{role=taking-over}") == 0);
  BOOST_TEST(Value(before, "baton_mds_epoch") >= 2);
  BOOST_TEST(Value(before, "baton_mds_standby_lag_records") == 0);
  const double now_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  BOOST_TEST(std::fabs(Value(before, "baton_mds_start_time_seconds") - now_s) < 600);

  auto c = ConnectOrFail(mds.address(), 60000);
  fs::Ino dir = MustCall(*c, MkdirReq(fs::kRootIno, "load")).attr.ino;
  constexpr int kThreads = 4, kPerThread = 40;
  BOOST_TEST(Load(mds.address(), dir, kThreads, kPerThread, "f") == 0);
  MustCall(*c, InoReq(fs::Op::kGetattr, dir));
  Exposition after = Scrape(metrics);
  CheckAdvertised(after);

  auto delta = [&](const std::string& key) { return Value(after, key) - Value(before, key); };
  const int files = kThreads * kPerThread;
  BOOST_TEST(delta("baton_mds_ops_total{op=mknod}") >= files);
  BOOST_TEST(delta("baton_mds_ops_total{op=lookup}") >= files);
  BOOST_TEST(delta("baton_mds_ops_total{op=mkdir}") >= 1);
  BOOST_TEST(delta("baton_mds_ops_total{op=getattr}") >= 1);
  BOOST_TEST(delta("baton_mds_journal_records_total") >= files + 1);
  BOOST_TEST(delta("baton_mds_journal_bytes_total") > delta("baton_mds_journal_records_total"));
  BOOST_TEST(delta("baton_mds_journal_group_commits_total") >= 1);
  BOOST_TEST(delta("baton_mds_journal_fsync_seconds_count") >= 1);
  BOOST_TEST(delta("baton_mds_apply_seconds_count") >= 1);
  BOOST_TEST(delta("baton_mds_journal_fsync_seconds_sum") > 0);
  BOOST_TEST(delta("baton_mds_applied_lsn") >= files + 1);
  // One observer call per group: the counts agree with each other.
  BOOST_TEST(Value(after, "baton_mds_journal_fsync_seconds_count") ==
             Value(after, "baton_mds_journal_group_commits_total"));
  BOOST_TEST(Value(after, "baton_mds_group_commit_records_count") ==
             Value(after, "baton_mds_journal_group_commits_total"));
  BOOST_TEST(Value(after, "baton_mds_group_commit_records_sum") == Value(after, "baton_mds_journal_records_total"));
  BOOST_TEST(Value(after, "baton_mds_durable_lsn") >= Value(after, "baton_mds_applied_lsn"));
  BOOST_TEST(Value(after, "baton_mds_sessions") >= 1);
  // Checkpoints every 500 ms (MdsProcess) once records were applied.
  Exposition later = ScrapeUntil(metrics, 15000, [](const Exposition& e) {
    return e.values.count("baton_mds_checkpoints_total") && e.values.at("baton_mds_checkpoints_total") > 0;
  });
  BOOST_TEST(Value(later, "baton_mds_checkpoints_total") > 0);
  BOOST_TEST(Running(mds));
  BOOST_TEST_MESSAGE("scrape_under_load: " << std::chrono::duration<double>(Clock::now() - t0).count() << " s, "
                                           << delta("baton_mds_journal_group_commits_total") << " group commits for "
                                           << delta("baton_mds_journal_records_total") << " records");
}

BOOST_FIXTURE_TEST_CASE(bad_peers_on_the_metrics_port, ActiveFixture) {
  bool closed = false;
  // Garbage with an end of head: 400, then closed.
  const char junk[] = "\x00\xff\x01 garbage\r\n\r\n";
  std::string a = Exchange(metrics, std::string(junk, sizeof junk - 1), &closed);
  BOOST_TEST(closed);
  BOOST_TEST(a.rfind("HTTP/1.1 400 ", 0) == 0u, a.substr(0, 40));
  // An oversized request line: 431 (or a reset) and closed, never a hang.
  a = Exchange(metrics, "GET /" + std::string(16 << 10, 'a'), &closed);
  BOOST_TEST(closed);
  BOOST_TEST((a.empty() || a.rfind("HTTP/1.1 431 ", 0) == 0u), a.substr(0, 40));
  a = Exchange(metrics, "GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\n\r\n", &closed);
  BOOST_TEST(closed);
  // Random bytes (seeded), a cut request, a wrong path.
  const uint64_t seed = SeedFromEnv();
  BOOST_TEST_MESSAGE("seed " << seed << " (BATON_SEED replays)");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 5; i++) {
    std::string junk(1 + rng() % 3000, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    Exchange(metrics, junk + "\n\n", &closed);
    BOOST_TEST(closed);
  }
  Exchange(metrics, "GET /met", &closed);  // then silence: closed within the deadline
  BOOST_TEST(closed);
  BOOST_TEST(Get(metrics, "/").status_line.rfind("HTTP/1.1 404 ", 0) == 0u);
  // A silent peer delays a scrape by the request deadline at most.
  StatusOr<int> silent = proto::ConnectTcp(metrics, 2000);
  BOOST_REQUIRE(silent.ok());
  auto t0 = Clock::now();
  Scrape(metrics);
  const double waited_s = std::chrono::duration<double>(Clock::now() - t0).count();
  BOOST_TEST(waited_s < 3 * mds::MetricsServer::kRequestDeadlineMs / 1000.0);
  proto::CloseFd(*silent);
  // The MDS is unharmed: it serves clients, and scrapes.
  BOOST_TEST(Running(mds));
  auto c = ConnectOrFail(mds.address(), 60000);
  MustCall(*c, CreateReq(fs::kRootIno, "still-serving"));
  Exposition e = Scrape(metrics);
  CheckAdvertised(e);
  BOOST_TEST(Value(e, "baton_mds_ops_total{op=mknod}") >= 1);
  BOOST_TEST(Running(mds));
}

BOOST_AUTO_TEST_CASE(standby_then_takeover_keeps_the_endpoint) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  MdsProcess a(vol, FreeLocalAddress(), 1000);
  a.name = "a";
  a.metrics_address = FreeLocalAddress();
  BOOST_REQUIRE_MESSAGE(a.Start(), "active did not start; see " + a.stderr_path());
  MdsProcess b(vol, FreeLocalAddress(), 1000, /*standby=*/true);
  b.name = "b";
  b.metrics_address = FreeLocalAddress();
  BOOST_REQUIRE(b.Spawn());
  BOOST_REQUIRE_MESSAGE(b.WaitRole(proto::Role::kStandby, 30000), "no standby; see " + b.stderr_path());

  Exposition s = Scrape(b.metrics_address);
  CheckAdvertised(s);
  BOOST_TEST(Value(s, "baton_mds_role{role=standby}") == 1);
  BOOST_TEST(Value(s, "baton_mds_role{role=active}") == 0);
  BOOST_TEST(Value(s, "baton_mds_sessions") == 0);
  const double standby_epoch = Value(s, "baton_mds_epoch");

  auto c = ConnectOrFail(a.address(), 60000);
  fs::Ino d = MustCall(*c, MkdirReq(fs::kRootIno, "d")).attr.ino;
  for (int i = 0; i < 20; i++) MustCall(*c, CreateReq(d, "f" + std::to_string(i)));
  const double active_applied = Value(Scrape(a.metrics_address), "baton_mds_applied_lsn");
  BOOST_TEST(active_applied >= 21);
  // The standby follows: its applied LSN reaches the active's, its lag drains.
  s = ScrapeUntil(b.metrics_address, 20000, [&](const Exposition& e) {
    return e.values.at("baton_mds_applied_lsn") >= active_applied && e.values.at("baton_mds_standby_lag_records") == 0;
  });
  BOOST_TEST(Value(s, "baton_mds_applied_lsn") >= active_applied);
  BOOST_TEST(Value(s, "baton_mds_durable_lsn") >= active_applied);
  BOOST_TEST(Value(s, "baton_mds_standby_lag_records") == 0);
  BOOST_TEST(Value(s, "baton_mds_apply_seconds_count") >= 1);
  BOOST_TEST(Value(s, "baton_mds_journal_records_total") == 0);  // a standby writes nothing

  c.reset();
  a.Kill9();
  BOOST_REQUIRE_MESSAGE(b.WaitRole(proto::Role::kActive, 30000), "no takeover; see " + b.stderr_path());
  Exposition t = Scrape(b.metrics_address);  // the same endpoint, now the active's
  CheckAdvertised(t);
  BOOST_TEST(Value(t, "baton_mds_role{role=active}") == 1);
  BOOST_TEST(Value(t, "baton_mds_role{role=standby}") == 0);
  BOOST_TEST(Value(t, "baton_mds_role{role=taking-over}") == 0);
  BOOST_TEST(Value(t, "baton_mds_epoch") > standby_epoch);
  BOOST_TEST(Value(t, "baton_mds_standby_lag_records") == 0);
  auto c2 = ConnectOrFail(b.address(), 60000);
  MustCall(*c2, CreateReq(d, "after-takeover"));
  Exposition u = Scrape(b.metrics_address);
  BOOST_TEST(Value(u, "baton_mds_ops_total{op=mknod}") >= 1);
  BOOST_TEST(Value(u, "baton_mds_journal_records_total") >= 1);
  BOOST_TEST(Value(u, "baton_mds_applied_lsn") > active_applied);
  BOOST_TEST(Value(u, "baton_mds_sessions") >= 1);
}

BOOST_AUTO_TEST_CASE(busy_metrics_address_exits_2) {
  TempDir dir;
  std::string vol = MakeVolume(dir);
  std::string busy;
  StatusOr<int> holder = proto::ListenTcp("127.0.0.1:0", &busy);
  BOOST_REQUIRE(holder.ok());
  MdsProcess m(vol, FreeLocalAddress(), 1000);
  m.metrics_address = busy;
  BOOST_REQUIRE(m.Spawn());
  BOOST_TEST(m.WaitExit(20000) == 2);
  proto::CloseFd(*holder);
  std::ifstream log(m.stderr_path());
  std::stringstream ss;
  ss << log.rdbuf();
  BOOST_TEST(ss.str().find("cannot listen for metrics on " + busy) != std::string::npos);
}
