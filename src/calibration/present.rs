//! The calibration report as people read it (`ivcd calibrate`). Moves and
//! results are shown in points of the reference close (+1.60 = 1.60% of
//! spot), hit rates in percent, intervals in brackets.
//!
//! The first block, "Headline", is quoted in `docs/calibration.md` and
//! checked against this output by a test: keep its lines stable.

use std::fmt::Write as _;

use super::report::CalibrationReport;
use super::stats::{Ci, GroupStats, StructureStats};

fn points(x: f64) -> String {
    format!("{:+.2}", x * 100.0)
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn rate_ci(c: &Ci) -> String {
    format!("{} [{:.1}-{:.1}]", percent(c.value), c.low * 100.0, c.high * 100.0)
}

fn points_ci(c: &Ci) -> String {
    format!("{} [{}, {}]", points(c.value), points(c.low), points(c.high))
}

/// The hit-rate and edge table of `groups`.
fn hits_table(out: &mut String, title: &str, groups: &[GroupStats]) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "  {:<28} {:>6}  {:<22} {:<24} {:<24}",
        "group", "events", "inside implied move", "mean edge (points)", "median edge (points)"
    );
    for g in groups {
        let _ = writeln!(
            out,
            "  {:<28} {:>6}  {:<22} {:<24} {:<24}",
            g.label,
            g.events,
            rate_ci(&g.hit_rate),
            points_ci(&g.mean_edge),
            points_ci(&g.median_edge)
        );
    }
}

fn structure_cells(s: &StructureStats) -> [String; 3] {
    [points_ci(&s.mean), points_ci(&s.worst), points_ci(&s.expected_shortfall_5)]
}

/// One structure's table of `groups`.
fn structure_table(
    out: &mut String,
    title: &str,
    groups: &[GroupStats],
    pick: fn(&GroupStats) -> &StructureStats,
) {
    let _ = writeln!(out, "{title}");
    let _ =
        writeln!(out, "  {:<28} {:>6}  {:<24} {:<26} {:<24}", "group", "events", "mean", "worst", "ES 5%");
    for g in groups {
        let [mean, worst, es] = structure_cells(pick(g));
        let _ = writeln!(out, "  {:<28} {:>6}  {mean:<24} {worst:<26} {es:<24}", g.label, g.events);
    }
}

/// The short tables: events, hit rate, mean edge, mean straddle bound.
fn compact_table(out: &mut String, title: &str, groups: &[GroupStats]) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "  {:<28} {:>6}  {:<22} {:<24} {:<24}",
        "group", "events", "inside implied move", "mean edge (points)", "straddle ES 5% (points)"
    );
    for g in groups {
        let _ = writeln!(
            out,
            "  {:<28} {:>6}  {:<22} {:<24} {:<24}",
            g.label,
            g.events,
            rate_ci(&g.hit_rate),
            points_ci(&g.mean_edge),
            points_ci(&g.short_straddle.expected_shortfall_5)
        );
    }
}

/// The headline block: what `docs/calibration.md` quotes.
pub fn headline(r: &CalibrationReport) -> String {
    let mut out = String::new();
    let c = &r.counts;
    let t = &r.design_tiers;
    let _ = writeln!(out, "Headline (implied moves: {})", r.attribution);
    let _ = writeln!(
        out,
        "  {} recorded reports of {} tickers; {} judged ({} with a VRP), {} without bars, {} ambiguous timing",
        c.rows, c.tickers, c.judged, c.with_vrp, c.no_bars, c.ambiguous
    );
    let _ = writeln!(
        out,
        "  timing: {}",
        c.timing.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        out,
        "  design tiers (VRP >= {:.1} / {:.1} / {:.1}), at the reaction open; inside = |gap| < implied move:",
        t.excellent, t.good, t.marginal
    );
    for g in &r.tiers {
        let _ = writeln!(
            out,
            "    {:<10} {:>5} events  inside {}  mean edge {} pts  short straddle (bound) mean {} ES5 {} pts",
            g.label,
            g.events,
            rate_ci(&g.hit_rate),
            points_ci(&g.mean_edge),
            points(g.short_straddle.mean.value),
            points(g.short_straddle.expected_shortfall_5.value),
        );
    }
    for s in &r.tier_steps {
        let _ = writeln!(
            out,
            "    {} - {}: inside {:+.1} points [{:+.1}, {:+.1}]",
            s.upper.code(),
            s.lower.code(),
            s.hit_rate_difference.value * 100.0,
            s.hit_rate_difference.low * 100.0,
            s.hit_rate_difference.high * 100.0
        );
    }
    let w = &r.walk_forward;
    let _ = writeln!(
        out,
        "  walk-forward (train to {}, {} events; test {} events):",
        w.train_end, w.train_events, w.test_events
    );
    match &w.chosen {
        Some(chosen) => {
            let show = |x: Option<f64>| x.map_or_else(|| "none".to_owned(), |v| format!("{v:.2}"));
            let _ = writeln!(
                out,
                "    chosen thresholds {} / {} / {}; Brier on the test events: design {}, chosen {}, no skill {}",
                show(chosen.excellent),
                show(chosen.good),
                show(chosen.marginal),
                w.brier_design.map_or("n/a".into(), |b| format!("{b:.4}")),
                w.brier_chosen.map_or("n/a".into(), |b| format!("{b:.4}")),
                w.brier_no_skill.map_or("n/a".into(), |b| format!("{b:.4}")),
            );
        }
        None => {
            let _ = writeln!(out, "    no thresholds chosen");
        }
    }
    let _ = writeln!(out, "    {}", w.verdict);
    let _ = writeln!(out, "  weights: {}", r.weights.verdict);
    trim_lines(&out)
}

/// The whole report as text.
pub fn text(r: &CalibrationReport) -> String {
    let mut out = String::new();
    let c = &r.counts;
    let dates = r.dates.map_or_else(String::new, |(a, b)| format!(", {a}..{b}"));
    let _ = writeln!(
        out,
        "ivcd calibrate: {} recorded reports of {} tickers{dates} from {} ({})",
        c.rows, c.tickers, r.source_file, r.attribution
    );
    let _ = writeln!(
        out,
        "Derived rows {}. Bootstrap: {} resamples, seed {}, 95% percentile intervals in brackets.\n",
        if r.reused { "reused (inputs unchanged)" } else { "computed and stored" },
        r.bootstrap.0,
        r.bootstrap.1
    );
    out.push_str(&headline(r));
    out.push('\n');

    let _ = writeln!(out, "Events");
    let _ = writeln!(
        out,
        "  {} rows, {} tickers ({} with bars); {} events without the bars they need",
        c.rows, c.tickers, c.tickers_with_bars, c.no_bars
    );
    let _ = writeln!(out, "  timing of the events with bars:");
    for (basis, n) in &c.timing {
        let _ = writeln!(out, "    {basis:<28} {n:>5}");
    }
    let _ = writeln!(
        out,
        "  inferred from the bars: {}; left out (ambiguous, or the dataset's session doubtful): {}",
        c.inferred, c.ambiguous
    );
    let _ = writeln!(
        out,
        "  judged: {} ({} with a VRP, {} with too few past events); with a score: {}",
        c.judged, c.with_vrp, c.without_vrp, c.with_score
    );
    let _ = writeln!(
        out,
        "  with a VRP: {} timing-suspect themselves; {} with |gap| within 0.05 point of the implied move (the rounding)",
        c.suspect, c.within_rounding
    );
    if !r.calendar_corrections.is_empty() {
        let _ = writeln!(
            out,
            "  calendars wrong or disagreeing, decided by the bars ({}):",
            r.calendar_corrections.len()
        );
        for k in &r.calendar_corrections {
            let _ = writeln!(
                out,
                "    {} {}: {} -> bars say {}",
                k.ticker,
                k.report_date,
                k.calendars.join(", "),
                k.bars
            );
        }
    }
    if !r.ambiguous.is_empty() {
        let _ = writeln!(out, "  left out ({}):", r.ambiguous.len());
        for a in &r.ambiguous {
            let _ = writeln!(out, "    {} {}: {}", a.ticker, a.report_date, a.why);
        }
    }
    let _ = writeln!(out, "\nApproximations");
    for a in &r.approximations {
        let _ = writeln!(out, "  - {a}");
    }
    out.push('\n');

    hits_table(&mut out, "Design tiers, at the reaction open (gap)", &r.tiers);
    structure_table(&mut out, "Short straddle P&L, upper bound (points of spot)", &r.tiers, |g| {
        &g.short_straddle
    });
    structure_table(
        &mut out,
        "Short strangle, exit side only: minus intrinsic owed (points; add the unknown credit)",
        &r.tiers,
        |g| &g.short_strangle_ex_credit,
    );
    structure_table(
        &mut out,
        "Iron condor, exit side only, estimate (points; add the unknown credit)",
        &r.tiers,
        |g| &g.iron_condor_ex_credit,
    );
    hits_table(&mut out, "Design tiers without timing-suspect events", &r.tiers_without_suspect);
    hits_table(&mut out, "Design tiers, at the reaction close (close-to-close)", &r.tiers_at_close);
    compact_table(&mut out, "Score deciles (VRP and consistency only)", &r.score_deciles);
    compact_table(&mut out, "VRP buckets", &r.vrp_buckets);
    compact_table(&mut out, "By year (every judged event, with or without a VRP)", &r.years);
    compact_table(&mut out, "By timing", &r.timings);
    compact_table(&mut out, "By how the timing was decided", &r.timing_bases);
    compact_table(&mut out, "Tickers: the 20 best by mean straddle bound (4+ events)", &r.tickers_best);
    compact_table(&mut out, "Tickers: the 20 worst", &r.tickers_worst);

    let w = &r.walk_forward;
    let _ = writeln!(
        out,
        "\nWalk-forward: thresholds chosen on events to {}, judged on the later ones",
        w.train_end
    );
    hits_table(&mut out, "  training events, design tiers", &w.train_design);
    hits_table(&mut out, "  training events, chosen tiers", &w.train_chosen);
    hits_table(&mut out, "  test events, design tiers", &w.test_design);
    hits_table(&mut out, "  test events, chosen tiers", &w.test_chosen);
    let _ = writeln!(
        out,
        "  test hit rates rise with the tier: design {}, chosen {}",
        w.test_monotone.0, w.test_monotone.1
    );
    let _ = writeln!(out, "  {}", w.verdict);
    let wc = &r.weights;
    let show = |x: Option<f64>| x.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
    let _ = writeln!(out, "\nScore weights (consistency's share of the VRP and consistency weights)");
    let _ = writeln!(
        out,
        "  design {:.2}, chosen {}; AUC of a hit (design, chosen, VRP only, consistency only): train {}, test {}",
        wc.design_consistency_share,
        show(wc.chosen_consistency_share),
        wc.train_auc.iter().map(|a| show(*a)).collect::<Vec<_>>().join(" / "),
        wc.test_auc.iter().map(|a| show(*a)).collect::<Vec<_>>().join(" / "),
    );
    let _ = writeln!(out, "  {}", wc.verdict);
    let _ = writeln!(out, "  cannot tell: {}", wc.cannot_tell);
    let _ = writeln!(out, "\nImplied moves: {}", r.attribution);
    trim_lines(&out)
}

/// `text` without the padding at the ends of its lines.
fn trim_lines(text: &str) -> String {
    text.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}
