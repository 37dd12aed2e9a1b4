// Package forecast forecasts a univariate series of (date, value) points,
// such as an artist's daily streams or monthly listeners. It knows nothing of
// HTTP or storage: Compute takes points and Options and returns a Result or
// a typed error.
//
// # Spacing
//
// The spacing is inferred from the dates: daily (seasonal period 7),
// weekly (period 52) or monthly (calendar months on the same day, clamped to
// shorter months, or all on month ends; period 12). Irregular spacing,
// duplicate dates and NaN/Inf values are reported as IrregularSpacingError,
// DuplicateDateError and InvalidValueError, each naming the first few
// offending dates; a series too short for every allowed model gives
// InsufficientDataError with the number of points needed.
//
// # Models
//
// Candidates are the ETS family of Hyndman, Koehler, Ord & Snyder,
// "Forecasting with Exponential Smoothing: The State Space Approach" (2008)
// — error A/M, trend N/A/Ad, season N/A/M, by default without the unstable
// additive-error/multiplicative-season combinations — the Theta method
// (Assimakopoulos & Nikolopoulos 2000, computed as SES with drift after
// Hyndman & Billah 2003) and seasonal naive. Models with multiplicative
// components are fitted to strictly positive series only.
//
// ETS models are innovations state-space models fitted by maximum
// likelihood (relative-error likelihood for multiplicative errors) with
// gonum's Nelder–Mead on logit-transformed parameters, so every trial point
// lies in the usual region 0<α<1, 0<β<α, 0<γ<1−α, 0.8<φ<0.98. Initial
// states start from the classical decomposition heuristic (Hyndman et al.
// 2008, §2.6.1) and ℓ0, b0 are optimised with the smoothing parameters; the
// seasonal initial states are optimised too when m ≤ 12 and the series has
// at most 400 points, and otherwise kept at the heuristic (for long series
// they matter little, and 51 extra dimensions for weekly data would stall
// Nelder–Mead).
//
// # Selection
//
// The lowest-AICc ETS model is kept unless Theta or seasonal naive has a
// rolling-origin backtest MAE at least 10% lower. The backtest fits on the
// points before the first of k origins (default 10) and forecasts h steps
// (the horizon, at most n/5) from each origin, rolling the states forward
// with fixed parameters; MASE is scaled by the in-sample seasonal naive MAE
// of that training part (Hyndman & Koehler 2006).
//
// # Seasonality test
//
// Seasonality of period m is detected when the lag-m autocorrelation
// exceeds its 90% bound under Bartlett's formula, as the Theta method was
// applied to M3 (and R's forecast::thetaf):
//
//	|r_m| > 1.645 · sqrt((1 + 2 Σ_{k=1}^{m−1} r_k²) / n),  n ≥ 2m.
//
// It decides whether Theta seasonally adjusts (classical multiplicative
// decomposition; additive for series that are not strictly positive). ETS
// seasonal models are candidates either way and AICc decides.
//
// # Intervals and scenarios
//
// 80% and 95% prediction intervals are analytic for the class 1 ETS models
// (additive error, no or additive seasonality; Hyndman et al. 2008,
// Table 6.1), Theta (SES variance) and seasonal naive; otherwise they are
// empirical quantiles of 1000 simulated sample paths with a fixed seed.
// Scenarios are pessimistic (lower 80% bound), expected (point forecast)
// and optimistic (upper 80% bound).
package forecast
