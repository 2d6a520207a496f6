//! Cboe's delayed-quote chain downloads (CSV) and OCC option symbols.

use ivcd::domain::OptionRight;
use ivcd::providers::files::cboe;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::support::data::NVDA_CBOE;
use crate::support::read_data;
use crate::support::values::{at as utc, date, ticker};

#[test]
fn cvna_chain_before_the_2023_07_19_report() {
    let chain = cboe::parse_cboe_chain_csv(&read_data(CVNA_CBOE), CVNA_CBOE).unwrap();
    assert_eq!(chain.ticker, ticker("CVNA"));
    assert_eq!(chain.source, "cboe_csv");
    // Line 3: "Date: July 18, 2023 at 7:51 AM EDT" = 11:51 UTC.
    assert_eq!(chain.as_of, utc("2023-07-18T11:51:00Z"));
    let underlying = chain.underlying.as_ref().unwrap();
    // Line 2: Last: 36.8; line 3: Bid: 36.8, Ask: 36.86, "Volume: 21,041,228".
    assert_eq!(
        (underlying.bid, underlying.ask, underlying.last),
        (Some(dec!(36.8)), Some(dec!(36.86)), Some(dec!(36.8)))
    );
    assert_eq!((underlying.volume, underlying.as_of), (Some(21_041_228), Some(chain.as_of)));
    // 585 rows (lines 5-589), a call and a put each; 15 expirations.
    assert_eq!(chain.contracts.len(), 1170);
    let expirations = chain.expirations();
    assert_eq!(expirations.len(), 15);
    assert_eq!((expirations[0], expirations[14]), (date("2023-07-21"), date("2025-01-17")));
    // Line 57: the 36.5 strike of 2023-07-21.
    let call = contract(&chain, "CVNA230721C00036500");
    assert_eq!(
        (call.right, call.strike, call.expiration),
        (OptionRight::Call, dec!(36.5), date("2023-07-21"))
    );
    assert_eq!((call.bid, call.ask, call.last), (Some(dec!(2.31)), Some(dec!(2.40)), Some(dec!(2.35))));
    assert_eq!(
        (call.volume, call.open_interest, call.iv, call.delta),
        (Some(554), Some(716), Some(1.5432), Some(0.5321))
    );
    let put = contract(&chain, "CVNA230721P00036500");
    assert_eq!((put.bid, put.ask), (Some(dec!(2.33)), Some(dec!(2.41))));
    // Line 58: the 37 strike; the call's IV column says 1.5664 (156.64%).
    let call = contract(&chain, "CVNA230721C00037000");
    assert_eq!((call.bid, call.ask, call.iv), (Some(dec!(2.13)), Some(dec!(2.20)), Some(1.5664)));
    let put = contract(&chain, "CVNA230721P00037000");
    assert_eq!((put.bid, put.ask), (Some(dec!(2.57)), Some(dec!(2.70))));
    // Line 5: the 2.5 call has IV 0 (None) and the put a bid of 0 (kept).
    assert_eq!(contract(&chain, "CVNA230721C00002500").iv, None);
    assert_eq!(contract(&chain, "CVNA230721P00002500").bid, Some(Decimal::ZERO));
    assert!(chain.contracts.iter().all(|c| c.contract_size.is_none()));

    // The _July file: the same quotes (line 57 too) under a 1:05 PM stamp.
    let july = cboe::parse_cboe_chain_csv(&read_data(CVNA_CBOE_JULY), CVNA_CBOE_JULY).unwrap();
    assert_eq!(july.as_of, utc("2023-07-18T17:05:00Z"));
    assert_eq!(july.contracts.len(), 352);
    assert_eq!(contract(&july, "CVNA230721C00036500"), contract(&chain, "CVNA230721C00036500"));
}

#[test]
fn other_recorded_chains() {
    // AMD, line 3: "August 20, 2023 at 10:35 PM EDT". 869 rows; the 40 rows
    // of AMD1 (adjusted, lines 518-592, Jan 19 2024) are left out.
    let amd = cboe::parse_cboe_chain_csv(&read_data(AMD_CBOE), AMD_CBOE).unwrap();
    assert_eq!(amd.ticker, ticker("AMD"));
    assert_eq!(amd.as_of, utc("2023-08-21T02:35:00Z"));
    assert_eq!(amd.contracts.len(), (869 - 40) * 2);
    assert!(amd.contracts.iter().all(|c| c.symbol.as_deref().is_some_and(|s| !s.starts_with("AMD1"))));
    let underlying = amd.underlying.as_ref().unwrap();
    assert_eq!(
        (underlying.bid, underlying.ask, underlying.last),
        (Some(dec!(105.55)), Some(dec!(105.7)), Some(dec!(105.6)))
    );
    // Line 254: the 105 call of 2023-09-15, bid 5.55 ask 5.65.
    let call = contract(&amd, "AMD230915C00105000");
    assert_eq!((call.bid, call.ask), (Some(dec!(5.55)), Some(dec!(5.65))));

    // TSLA, line 3: "August 20, 2023 at 10:38 PM EDT", 118 rows.
    let tsla = cboe::parse_cboe_chain_csv(&read_data(TSLA_CBOE_AUG), TSLA_CBOE_AUG).unwrap();
    assert_eq!(
        (tsla.ticker.as_str(), tsla.as_of, tsla.contracts.len()),
        ("TSLA", utc("2023-08-21T02:38:00Z"), 236)
    );

    // TSLA, French locale, line 3: "Date: 10 novembre 2023 à 18:55 UTC−5",
    // "Volume: 130 859 611" grouped with U+202F; 340 rows.
    let french = cboe::parse_cboe_chain_csv(&read_data(TSLA_CBOE_FR), TSLA_CBOE_FR).unwrap();
    assert_eq!(french.as_of, utc("2023-11-10T23:55:00Z"));
    assert_eq!(french.contracts.len(), 680);
    let underlying = french.underlying.as_ref().unwrap();
    assert_eq!(
        (underlying.bid, underlying.ask, underlying.last),
        (Some(dec!(213.87)), Some(dec!(213.9)), Some(dec!(213.88)))
    );
    assert_eq!(underlying.volume, Some(130_859_611));

    // NVDA, line 3: "January 6, 2025 at 9:30 PM EST" = 02:30 UTC next day; Last: 150.2802.
    let nvda = cboe::parse_cboe_chain_csv(&read_data(NVDA_CBOE), NVDA_CBOE).unwrap();
    assert_eq!(
        (nvda.ticker.as_str(), nvda.as_of, nvda.contracts.len()),
        ("NVDA", utc("2025-01-07T02:30:00Z"), 1086)
    );
    assert_eq!(nvda.underlying.as_ref().unwrap().last, Some(dec!(150.2802)));
}

#[test]
fn malformed_files_are_clear_errors() {
    let text = read_data(CVNA_CBOE);
    let name = "cvna.csv";
    assert_rejects(cboe::parse_cboe_chain_csv("", name), name, "empty body");
    assert_rejects(cboe::parse_cboe_chain_csv("<html><body>Access Denied</body></html>", name), name, "HTML");
    let head: String = text.lines().take(3).collect::<Vec<_>>().join("\n");
    assert_rejects(cboe::parse_cboe_chain_csv(&head, name), name, "column header");
    let header_only: String = text.lines().take(4).collect::<Vec<_>>().join("\n");
    assert_rejects(cboe::parse_cboe_chain_csv(&header_only, name), name, "no contracts");
    let six: Vec<&str> = text.lines().take(6).collect();
    let with = |line: usize, new: &str| {
        let mut lines = six.clone();
        lines[line] = new;
        lines.join("\n")
    };
    // The real file's first six lines with one line changed, and what the
    // error must say.
    let row = six[4];
    let truncated = row.rsplit_once(',').map_or(row, |(head, _)| head);
    let cases: [(usize, String, &str); 11] = [
        (4, truncated.to_owned(), "line 5: 21 fields"),
        (4, format!("{row},1"), "line 5: 23 fields"),
        (4, row.replacen(",33.7,", ",abc,", 1), "line 5: call Bid"),
        (4, row.replacen("Fri Jul 21 2023", "2023-07-21", 1), "line 5: expiration"),
        (4, row.replacen(",2.50,", ",3.50,", 1), "does not match its row"),
        (2, "\"Date: July 18, 2023 at 7:51 AM PDT\",Bid: 36.8".to_owned(), "unknown time zone"),
        (2, "\"Date: January 18, 2023 at 7:51 AM EDT\",Bid: 36.8".to_owned(), "not New York's offset"),
        (2, "Bid: 36.8,Ask: 36.86".to_owned(), "line 3"),
        (1, "Carvana Co,Change: 0.29".to_owned(), "line 2: no `Last:`"),
        (3, "Expiration Date,Calls,Bid,Ask,Strike".to_owned(), "puts"),
        (5, six[5].replace("CVNA230721", "CVNB230721"), "several underlyings"),
    ];
    for (line, new, needle) in &cases {
        assert_rejects(cboe::parse_cboe_chain_csv(&with(*line, new), name), name, needle);
    }
}
