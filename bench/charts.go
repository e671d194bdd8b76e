package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chart file names, under -charts; BENCHMARKS.md links them.
const (
	chartRatios     = "ratios.svg"
	chartThroughput = "throughput.svg"
	chartFields     = "fields.svg"
)

// drawCharts draws the charts this run has data for.
func drawCharts(r *results, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(r.Runs) > 0 {
		if err := drawRatios(r, filepath.Join(dir, chartRatios)); err != nil {
			return err
		}
		if err := drawThroughput(r, filepath.Join(dir, chartThroughput)); err != nil {
			return err
		}
	}
	if len(r.Go) > 0 {
		if err := drawFields(r, filepath.Join(dir, chartFields)); err != nil {
			return err
		}
	}
	return nil
}

// chartLabel names a target briefly in a chart: "(5) jar, no cookies".
func chartLabel(t target) string {
	l, _, _ := strings.Cut(cfgNumbers[t.Config], " ")
	if t.Config == cfgUpstream {
		l = "upstream"
	}
	if t.Jar {
		l += " jar"
	}
	if t.Path == pathStatic {
		l += ", no cookies"
	}
	return l
}

// drawRatios draws the paired runs' req/s ratios: each ratio as a small
// dot, their median as a large one with its value, the 97 % target as a
// dashed line. nginx is on the throughput chart: at several times (1) it
// would flatten the rest.
func drawRatios(r *results, path string) error {
	var (
		names         []string
		medians, dots plotter.XYs
	)
	lo, hi := 0.9, 1.06
	for _, p := range r.Paired {
		x := float64(len(names))
		names = append(names, comparisonLabel(r, p))
		medians = append(medians, plotter.XY{X: x, Y: p.Median})
		for i, v := range p.Ratios {
			// Spread the dots a little, so that equal ratios stay visible.
			dots = append(dots, plotter.XY{X: x + 0.08 + 0.16*float64(i)/float64(len(p.Ratios)), Y: v})
			lo, hi = min(lo, v-0.02), max(hi, v+0.02)
		}
	}
	if len(names) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("req/s ratios in paired runs (A B B A, %s each, %d ratios per comparison)", r.Options.pairD, 2*r.Options.pairs)
	p.Y.Label.Text = "req/s of the configuration ÷ req/s of the baseline"
	p.Y.Min, p.Y.Max = lo, hi
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	blue := color.RGBA{R: 70, G: 110, B: 170, A: 255}
	p.Add(hline(1, len(names), color.Gray{Y: 150}, nil))
	target := hline(0.97, len(names), color.RGBA{R: 200, G: 40, B: 40, A: 255}, []vg.Length{vg.Points(4), vg.Points(3)})
	p.Add(target)
	p.Legend.Add("97 % target", target)
	for _, set := range []struct {
		xys    plotter.XYs
		radius vg.Length
		legend string
	}{
		{medians, vg.Points(5), "median"},
		{dots, vg.Points(1.5), "one pair of runs"},
	} {
		sc, err := plotter.NewScatter(set.xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: blue, Radius: set.radius, Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add(set.legend, sc)
	}
	p.Legend.Top = false
	p.Legend.YOffs = vg.Points(4)
	texts := make([]string, len(medians))
	for i, pt := range medians {
		texts[i] = strconv.FormatFloat(pt.Y, 'f', 3, 64)
	}
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: medians, Labels: texts})
	if err != nil {
		return err
	}
	lbl.Offset = vg.Point{X: -vg.Points(36)}
	for i := range lbl.TextStyle {
		lbl.TextStyle[i].YAlign = draw.YCenter
	}
	p.Add(lbl)
	p.NominalX(names...)
	return p.Save(28*vg.Centimeter, 12*vg.Centimeter, path)
}

// comparisonLabel names a paired comparison briefly: "(2) ÷ (1)".
func comparisonLabel(r *results, p pairedResult) string {
	num := func(name string) string {
		l, _, _ := strings.Cut(chartLabel(r.target(name)), ",")
		return l
	}
	l := num(p.Target) + " ÷ " + num(p.Base)
	if r.target(p.Target).Path == pathStatic {
		l += ", no cookies"
	}
	return l
}

// hline is a horizontal line at y across n nominal x positions.
func hline(y float64, n int, c color.Color, dashes []vg.Length) *plotter.Function {
	f := plotter.NewFunction(func(float64) float64 { return y })
	f.XMin, f.XMax = -0.5, float64(n)-0.5
	f.Color = c
	f.Dashes = dashes
	return f
}

// drawThroughput draws the median req/s of every target.
func drawThroughput(r *results, path string) error {
	var (
		names  []string
		values plotter.Values
	)
	for _, s := range r.summaries() {
		names = append(names, chartLabel(s.Target))
		values = append(values, s.RPS/1000)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Median requests/s on 127.0.0.1 (wrk -t%d -c%d -d%s, %d rounds)", r.Options.threads, r.Options.conns, r.Options.duration, r.Options.rounds)
	p.Y.Label.Text = "thousand requests/s"
	p.Y.Min = 0
	bars, err := plotter.NewBarChart(values, vg.Points(28))
	if err != nil {
		return err
	}
	bars.Color = color.RGBA{R: 70, G: 110, B: 170, A: 255}
	bars.LineStyle.Width = 0
	p.Add(bars)
	xys := make(plotter.XYs, len(values))
	texts := make([]string, len(values))
	for i, v := range values {
		xys[i] = plotter.XY{X: float64(i), Y: v}
		texts[i] = strconv.FormatFloat(v, 'f', 1, 64)
	}
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range lbl.TextStyle {
		lbl.TextStyle[i].XAlign = draw.XCenter
		lbl.TextStyle[i].YAlign = draw.YBottom
	}
	p.Add(lbl)
	p.NominalX(names...)
	return p.Save(30*vg.Centimeter, 12*vg.Centimeter, path)
}

// drawFields draws the rewrite's cost against the number of Set-Cookie
// fields, log–log: a straight line of slope 1 is linear cost.
func drawFields(r *results, path string) error {
	p := plot.New()
	p.Title.Text = "Rewrite cost vs number of Set-Cookie fields (BenchmarkRewriteFields)"
	p.X.Label.Text = "Set-Cookie fields in the response"
	p.Y.Label.Text = "ns per response"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), vg.Points(6)
	for i, series := range []struct{ name, label string }{
		{"pypi", "PyPI trio repeated (2 of 3 rewritten)"},
		{"unmatched", "no field matched"},
	} {
		var xys plotter.XYs
		for _, n := range []int{1, 3, 10, 100} {
			if g := r.bench(fmt.Sprintf("RewriteFields/%s/fields=%d", series.name, n)); g != nil {
				xys = append(xys, plotter.XY{X: float64(n), Y: g.NsOp})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		c := []color.RGBA{{R: 70, G: 110, B: 170, A: 255}, {R: 220, G: 130, B: 40, A: 255}}[i]
		line.Color, points.Color = c, c
		points.Shape = draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(series.label, line, points)
	}
	return p.Save(16*vg.Centimeter, 11*vg.Centimeter, path)
}
