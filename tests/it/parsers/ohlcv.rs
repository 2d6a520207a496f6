//! Daily OHLCV files: Yahoo's, the unadjusted CVNA file and Alpha
//! Vantage's layout.

use ivcd::providers::alpha_vantage::wire as av;
use ivcd::providers::files::ohlcv;
use rust_decimal_macros::dec;

use super::*;
use crate::support::data::YAHOO_DIR;
use crate::support::values::date;
use crate::support::{data_dir, read_data};

fn csv_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(data_dir().join(dir))
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".csv"))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_yahoo_file() {
    let files: Vec<String> =
        csv_files(YAHOO_DIR).into_iter().filter(|path| !path.ends_with("/sp500_tickers.csv")).collect();
    assert_eq!(files.len(), 503, "503 price files besides sp500_tickers.csv");
    let mut total = 0;
    for path in &files {
        let text = read_data(path);
        let bars = ohlcv::parse_ohlcv_csv(&text, path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bars.len(), text.lines().count() - 1, "{path}: one bar per data line");
        assert_ascending_unique(&bars, path);
        for bar in &bars {
            assert!(bar.high >= bar.low, "{path} {}: high {} < low {}", bar.date, bar.high, bar.low);
            assert!(bar.volume.is_some(), "{path} {}", bar.date);
        }
        total += bars.len();
    }
    assert!(total > 600_000, "{total} bars");

    // CVNA.csv line 602: 2023-07-18 close 39.79999923706055, the float32
    // yfinance recorded for 39.8; line 603: 2023-07-19 open 53.9900016784668,
    // the float32 of 53.99. Read as the prices recorded, not the float64
    // print of a float32.
    let path = format!("{YAHOO_DIR}/CVNA.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!(bar_on(&bars, "2023-07-18").close.to_string(), "39.8");
    assert_eq!(bar_on(&bars, "2023-07-18").volume, Some(37_052_000));
    assert_eq!(bar_on(&bars, "2023-07-19").open.to_string(), "53.99");
    assert_eq!((bars[0].date, bars.last().map(|b| b.date)), (date("2021-02-26"), Some(date("2026-02-25"))));
    // ADI.csv writes Close before Open (line 1); line 2: close
    // 143.4009246826172 (a float32's print: 143.40092), open
    // 144.08193661226423 (17 digits, not a float32: as written).
    let path = format!("{YAHOO_DIR}/ADI.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!(bars[0].close.to_string(), "143.40092");
    assert_eq!(bars[0].open.to_string(), "144.08193661226423");
    // APP.csv line 2: volume written 11444400.0.
    let path = format!("{YAHOO_DIR}/APP.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!((bars[0].date, bars[0].volume), (date("2021-04-15"), Some(11_444_400)));
}

#[test]
fn unadjusted_cvna_and_alpha_vantage_layout() {
    // CRLF file, `ticker,date,open,high,low,close`, no volume.
    let bars = ohlcv::parse_ohlcv_csv(&read_data(CVNA_UNADJUSTED), CVNA_UNADJUSTED).unwrap();
    assert_eq!(bars.len(), 2141);
    assert_ascending_unique(&bars, CVNA_UNADJUSTED);
    // Line 1566: CVNA,2023-07-18,36.6,42.27,36.32,39.8; line 1567: CVNA,2023-07-19,53.99,...
    let before = bar_on(&bars, "2023-07-18");
    assert_eq!(
        (before.open, before.high, before.low, before.close, before.volume),
        (dec!(36.6), dec!(42.27), dec!(36.32), dec!(39.8), None)
    );
    assert_eq!(bar_on(&bars, "2023-07-19").open, dec!(53.99));
    // Line 2: the first bar, 2017-04-28.
    assert_eq!((bars[0].date, bars[0].close), (date("2017-04-28"), dec!(11.1)));

    // Alpha Vantage TIME_SERIES_DAILY_ADJUSTED files, newest first.
    let files = csv_files(AV_STOCK_DIR);
    assert_eq!(files.len(), 14);
    for path in &files {
        let text = read_data(path);
        let bars = ohlcv::parse_ohlcv_csv(&text, path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bars.len(), text.lines().count() - 1, "{path}");
        assert_ascending_unique(&bars, path);
        assert!(bars.iter().all(|b| b.high >= b.low), "{path}");
        assert_eq!(av::parse_daily_csv(&text, path).unwrap(), bars, "{path}: same layout as the AV endpoint");
    }
    // AAPL.csv line 2: 2019-07-25 207.02 close (raw; adjusted_close also 207.02);
    // last line: 1998-01-02 close 16.25 (adjusted_close 0.5084 ignored).
    let path = format!("{AV_STOCK_DIR}/AAPL.csv");
    let bars = ohlcv::parse_ohlcv_csv(&read_data(&path), &path).unwrap();
    assert_eq!(
        (bars[0].date, bars[0].close, bars[0].volume),
        (date("1998-01-02"), dec!(16.25), Some(6_411_700))
    );
    assert_eq!(bar_on(&bars, "2019-07-25").close, dec!(207.02));
}

#[test]
fn malformed_files_are_clear_errors() {
    let path = format!("{YAHOO_DIR}/CVNA.csv");
    let text = read_data(&path);
    let lines: Vec<&str> = text.lines().take(5).collect();
    let name = "CVNA.csv";
    let with = |index: usize, new: &str| {
        let mut copy = lines.clone();
        copy[index] = new;
        copy.join("\n")
    };
    // Whole bodies that are not the file, then the real file's first five
    // lines with one line changed; and what the error must say.
    for (body, needle) in [
        ("", "empty body"),
        ("<html>404</html>", "not a CSV"),
        (r#"{"Note": "throttled"}"#, "not a CSV"),
        ("Date,Open,High,Low\n2021-02-26,1,2,3\n", "no `close` column"),
    ] {
        assert_rejects(ohlcv::parse_ohlcv_csv(body, name), name, needle);
    }
    let cases: [(usize, String, &str); 6] = [
        (2, "2021-03-01,289.1199951171875,312.19000244140625".to_owned(), "line 3"),
        (2, format!("{},7", lines[2]), "line 3"),
        (2, lines[2].replacen(",289.", ",abc.", 1), "line 3: column `open`"),
        (2, lines[2].replacen("2021-03-01", "03/01/2021", 1), "line 3: date"),
        (2, "2021-03-01,null,1,1,1,1".to_owned(), "line 3: column `open` is empty"),
        (3, lines[3].replacen("2021-03-02", "2021-03-01", 1), "listed twice (lines 3 and 4)"),
    ];
    for (index, new, needle) in &cases {
        assert_rejects(ohlcv::parse_ohlcv_csv(&with(*index, new), name), name, needle);
    }
    // A row of nulls is skipped, not an error.
    let bars = ohlcv::parse_ohlcv_csv(&with(2, "2021-03-01,null,null,null,null,null"), name).unwrap();
    assert_eq!(bars.len(), 3);
    // Two tickers in one file.
    let mixed = "ticker,date,open,high,low,close\nCVNA,2017-04-28,13.5,13.94,10.7,11.1\nAAPL,2017-05-01,11.6,11.73,10.7,10.77\n";
    assert_rejects(ohlcv::parse_ohlcv_csv(mixed, name), name, "line 3: ticker");
}
