// SVG rendering of PlotSpec: linear axes fitted to the data with 5 ticks each.
#include "tandem/eval/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

namespace tandem {
namespace {

std::string escape_xml(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

}  // namespace

Result<std::string> render_svg_plot(const PlotSpec& spec) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : spec.series) {
    if (s.x.size() != s.y.size())
      return make_error("plot series '", s.label, "': ", s.x.size(), " x values but ", s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  }
  if (!(x0 <= x1)) return make_error("plot '", spec.title, "': no finite point to draw");
  // A flat range still needs a nonzero span to map onto pixels.
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double ml = 70, mr = 20, mt = 40, mb = 55;
  const double pw = spec.width - ml - mr, ph = spec.height - mt - mb;
  auto px = [&](double x) { return ml + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return mt + ph - (y - y0) / (y1 - y0) * ph; };
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << spec.width << "\" height=\"" << spec.height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << spec.width / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << escape_xml(spec.title) << "</text>\n";
  o << "<rect x=\"" << ml << "\" y=\"" << mt << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double xv = x0 + (x1 - x0) * i / 4, yv = y0 + (y1 - y0) * i / 4;
    o << "<line x1=\"" << px(xv) << "\" y1=\"" << mt + ph << "\" x2=\"" << px(xv) << "\" y2=\"" << mt + ph + 5
      << "\" stroke=\"black\"/><text x=\"" << px(xv) << "\" y=\"" << mt + ph + 18 << "\" text-anchor=\"middle\">"
      << num(xv) << "</text>\n";
    o << "<line x1=\"" << ml - 5 << "\" y1=\"" << py(yv) << "\" x2=\"" << ml << "\" y2=\"" << py(yv)
      << "\" stroke=\"black\"/><text x=\"" << ml - 8 << "\" y=\"" << py(yv) + 4 << "\" text-anchor=\"end\">"
      << num(yv) << "</text>\n";
  }
  o << "<text x=\"" << ml + pw / 2 << "\" y=\"" << spec.height - 12 << "\" text-anchor=\"middle\">"
    << escape_xml(spec.x_label) << "</text>\n";
  o << "<text transform=\"translate(16," << mt + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << escape_xml(spec.y_label) << "</text>\n";
  for (size_t k = 0; k < spec.series.size(); ++k) {
    const auto& s = spec.series[k];
    const char* c = colors[k % 5];
    std::vector<size_t> idx;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) idx.push_back(i);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s.x[a] < s.x[b]; });
    o << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"2\" points=\"";
    for (size_t i : idx) o << px(s.x[i]) << "," << py(s.y[i]) << " ";
    o << "\"/>\n";
    for (size_t i : idx) o << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"3\" fill=\"" << c << "\"/>\n";
    o << "<text x=\"" << ml + 10 << "\" y=\"" << mt + 16 + 16 * k << "\" fill=\"" << c << "\">"
      << escape_xml(s.label) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

Status write_svg_plot(const PlotSpec& spec, const std::string& path) {
  auto svg = render_svg_plot(spec);
  if (!svg) return svg.error();
  std::ofstream out(path);
  if (!out) return make_error("cannot write plot file ", path);
  out << *svg;
  if (!out) return make_error("error writing plot file ", path);
  return ok_status();
}

}  // namespace tandem
