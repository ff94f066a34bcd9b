//! ISO 4217 currency codes: the reporting currency in `scudo.toml` must be one of them.

/// Active codes (ISO 4217, 2026) and codes withdrawn recently enough to appear in exports
/// (BGN, HRK, SLL, ZWL, …).
const CODES: &str = "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP \
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL \
GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT \
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB \
PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS \
TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XCD XCG XDR XOF XPD XPF \
XPT YER ZAR ZMW ZWG ZWL";

/// True when `code` (upper case) is a currency code.
pub fn is_known(code: &str) -> bool {
    code.len() == 3 && CODES.split_whitespace().any(|c| c == code)
}

/// Known codes that look like `code` (same first two letters), for a "did you mean" hint.
pub fn near(code: &str) -> Vec<&'static str> {
    let prefix: String = code.chars().take(2).collect();
    CODES.split_whitespace().filter(|c| !prefix.is_empty() && c.starts_with(&prefix)).take(5).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes() {
        assert!(super::is_known("USD") && super::is_known("EUR") && super::is_known("INR"));
        assert!(!super::is_known("USX") && !super::is_known("usd") && !super::is_known("DOLLAR"));
        assert_eq!(super::near("USX"), vec!["USD", "USN"]);
    }
}
