// Order statistics for the FUSE bench: median of rounds, latency percentiles.
#pragma once

#include <vector>

namespace baton::fusebench {

// Median of values (mean of the two middle ones for an even count); 0 if empty.
double Median(std::vector<double> values);
// Nearest-rank percentile (p in [0, 100]) of values; 0 if empty.
double Percentile(std::vector<double> values, double p);

}  // namespace baton::fusebench
