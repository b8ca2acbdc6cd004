// Training record, progress line, CSV and SVG loss curve (see train_log.h).
#include "tandem/train/train_log.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace tandem {
namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  if (!o) return make_error("cannot open '", path, "' for writing");
  o << text;
  o.close();
  if (!o) return make_error("writing '", path, "' failed");
  return ok_status();
}

// Tick spacing of 1, 2 or 5 times a power of ten giving about `want` ticks.
double nice_step(double span, int want) {
  if (!(span > 0)) return 1;
  const double raw = span / want, p = std::pow(10.0, std::floor(std::log10(raw))), r = raw / p;
  return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * p;
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

}  // namespace

Status TrainLog::set_val_loss(int64_t step, double loss) {
  if (points_.empty() || points_.back().step != step)
    return make_error("train log: no point for step ", step, " to attach a validation loss to");
  points_.back().val_loss = loss;
  return ok_status();
}

std::string TrainLog::csv() const {
  std::string s = "step,tokens,loss,lr,grad_norm,tokens_per_s,val_loss\n";
  for (const auto& p : points_) {
    s += std::to_string(p.step) + "," + std::to_string(p.tokens) + "," + fmt("%.6f", p.loss) + "," +
         fmt("%.6e", p.lr) + "," + fmt("%.5f", p.grad_norm) + "," + fmt("%.1f", p.tokens_per_s) + "," +
         (std::isnan(p.val_loss) ? std::string() : fmt("%.6f", p.val_loss)) + "\n";
  }
  return s;
}

std::string TrainLog::svg(const std::string& title) const {
  const double W = 800, H = 480, ml = 70, mr = 20, mt = 40, mb = 55;
  const double pw = W - ml - mr, ph = H - mt - mb;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool any = false;
  for (const auto& p : points_) {
    for (double v : {p.loss, p.val_loss}) {
      if (!std::isfinite(v)) continue;
      if (!any) y0 = y1 = v;
      y0 = std::min(y0, v);
      y1 = std::max(y1, v);
      any = true;
    }
    x1 = std::max(x1, static_cast<double>(p.step));
  }
  if (!points_.empty()) x0 = std::min(x0, static_cast<double>(points_.front().step));
  if (y1 - y0 < 1e-9) y1 = y0 + 1;
  const double ystep = nice_step(y1 - y0, 6), xstep = nice_step(x1 - x0, 8);
  y0 = std::floor(y0 / ystep) * ystep;
  y1 = std::ceil(y1 / ystep) * ystep;
  auto X = [&](double v) { return ml + (v - x0) / (x1 - x0) * pw; };
  auto Y = [&](double v) { return mt + (1 - (v - y0) / (y1 - y0)) * ph; };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"480\" viewBox=\"0 0 800 480\" "
                   "font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"800\" height=\"480\" fill=\"white\"/>\n";
  s += "<text x=\"400\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">" + xml_escape(title) + "</text>\n";
  // Grid and ticks.
  for (double v = y0; v <= y1 + ystep * 1e-6; v += ystep) {
    const std::string y = fmt("%.1f", Y(v));
    s += "<line x1=\"" + fmt("%.1f", ml) + "\" x2=\"" + fmt("%.1f", ml + pw) + "\" y1=\"" + y + "\" y2=\"" + y +
         "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + fmt("%.1f", ml - 6) + "\" y=\"" + y + "\" text-anchor=\"end\" dominant-baseline=\"middle\">" +
         fmt(ystep < 0.1 ? "%.2f" : "%.1f", v) + "</text>\n";
  }
  for (double v = std::ceil(x0 / xstep) * xstep; v <= x1 + xstep * 1e-6; v += xstep) {
    const std::string x = fmt("%.1f", X(v));
    s += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + fmt("%.1f", mt) + "\" y2=\"" + fmt("%.1f", mt + ph) +
         "\" stroke=\"#eee\"/>\n";
    s += "<text x=\"" + x + "\" y=\"" + fmt("%.1f", mt + ph + 18) + "\" text-anchor=\"middle\">" + fmt("%.0f", v) +
         "</text>\n";
  }
  s += "<rect x=\"" + fmt("%.1f", ml) + "\" y=\"" + fmt("%.1f", mt) + "\" width=\"" + fmt("%.1f", pw) +
       "\" height=\"" + fmt("%.1f", ph) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  s += "<text x=\"400\" y=\"" + fmt("%.1f", H - 12) + "\" text-anchor=\"middle\">optimizer step</text>\n";
  s += "<text x=\"18\" y=\"" + fmt("%.1f", mt + ph / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " +
       fmt("%.1f", mt + ph / 2) + ")\">loss (nats/token)</text>\n";
  // Training loss, raw and smoothed (exponential moving average, debiased).
  std::string raw, smooth;
  double ema = 0, wsum = 0;
  for (const auto& p : points_) {
    if (!std::isfinite(p.loss)) continue;
    const std::string x = fmt("%.1f", X(static_cast<double>(p.step)));
    raw += x + "," + fmt("%.1f", Y(p.loss)) + " ";
    ema = 0.9 * ema + 0.1 * p.loss;
    wsum = 0.9 * wsum + 0.1;
    smooth += x + "," + fmt("%.1f", Y(ema / wsum)) + " ";
  }
  s += "<polyline fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1\" points=\"" + raw + "\"/>\n";
  s += "<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\" points=\"" + smooth + "\"/>\n";
  std::string val;
  for (const auto& p : points_) {
    if (!std::isfinite(p.val_loss)) continue;
    const std::string x = fmt("%.1f", X(static_cast<double>(p.step))), y = fmt("%.1f", Y(p.val_loss));
    val += x + "," + y + " ";
    s += "<circle cx=\"" + x + "\" cy=\"" + y + "\" r=\"3\" fill=\"#d94801\"/>\n";
  }
  if (!val.empty()) s += "<polyline fill=\"none\" stroke=\"#d94801\" stroke-width=\"1.5\" points=\"" + val + "\"/>\n";
  // Legend.
  const double lx = ml + pw - 170, ly = mt + 12;
  s += "<line x1=\"" + fmt("%.1f", lx) + "\" x2=\"" + fmt("%.1f", lx + 24) + "\" y1=\"" + fmt("%.1f", ly) + "\" y2=\"" +
       fmt("%.1f", ly) + "\" stroke=\"#08519c\" stroke-width=\"2\"/>\n";
  s += "<text x=\"" + fmt("%.1f", lx + 30) + "\" y=\"" + fmt("%.1f", ly + 4) + "\">train (smoothed)</text>\n";
  if (!val.empty()) {
    s += "<circle cx=\"" + fmt("%.1f", lx + 12) + "\" cy=\"" + fmt("%.1f", ly + 18) + "\" r=\"3\" fill=\"#d94801\"/>\n";
    s += "<text x=\"" + fmt("%.1f", lx + 30) + "\" y=\"" + fmt("%.1f", ly + 22) + "\">validation</text>\n";
  }
  s += "</svg>\n";
  return s;
}

Status TrainLog::write_csv(const std::string& path) const { return write_text(path, csv()); }

Status TrainLog::write_svg(const std::string& path, const std::string& title) const {
  return write_text(path, svg(title));
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char b[64];
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%lldh%02lldm%02llds", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else if (s >= 60)
    std::snprintf(b, sizeof b, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(b, sizeof b, "%llds", static_cast<long long>(s));
  return b;
}

std::string format_progress(const TrainLogPoint& p, int64_t total_steps, double eta_seconds) {
  char b[256];
  std::snprintf(b, sizeof b, "step %lld/%lld  loss %.4f  lr %.2e  |g| %.2f  %.0f tok/s  ETA %s",
                static_cast<long long>(p.step), static_cast<long long>(total_steps), p.loss, p.lr, p.grad_norm,
                p.tokens_per_s, format_duration(eta_seconds).c_str());
  std::string s = b;
  if (std::isfinite(p.val_loss)) s += "  val " + fmt("%.4f", p.val_loss);
  return s;
}

}  // namespace tandem
