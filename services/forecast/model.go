package forecast

import (
	"fmt"
	"strings"
)

// Method is a forecasting method family.
type Method int

const (
	// MethodETS is an exponential smoothing state-space model.
	MethodETS Method = iota + 1
	// MethodTheta is the Theta method (SES with drift), with classical
	// multiplicative seasonal adjustment when seasonality is detected.
	MethodTheta
	// MethodSeasonalNaive repeats the last observed seasonal cycle.
	MethodSeasonalNaive
)

// ErrorType is the error component of an ETS model.
type ErrorType int

// TrendType is the trend component of an ETS model.
type TrendType int

// SeasonType is the seasonal component of an ETS model.
type SeasonType int

const (
	ErrorAdditive ErrorType = iota + 1
	ErrorMultiplicative
)

const (
	TrendNone TrendType = iota + 1
	TrendAdditive
	TrendDamped
)

const (
	SeasonNone SeasonType = iota + 1
	SeasonAdditive
	SeasonMultiplicative
)

// Model names one candidate. For ETS, Error/Trend/Season name the
// components; they are ignored for the other methods.
type Model struct {
	Method Method
	Error  ErrorType
	Trend  TrendType
	Season SeasonType
}

// ETS names an exponential smoothing model, e.g. ETS(ErrorAdditive,
// TrendDamped, SeasonNone) is the damped-trend model ETS(A,Ad,N).
func ETS(e ErrorType, t TrendType, s SeasonType) Model {
	return Model{Method: MethodETS, Error: e, Trend: t, Season: s}
}

var (
	// Theta is the Theta method.
	Theta = Model{Method: MethodTheta}
	// SeasonalNaive is the seasonal naive method.
	SeasonalNaive = Model{Method: MethodSeasonalNaive}
	// DampedTrend is ETS(A,Ad,N), the damped additive trend model with
	// additive errors.
	DampedTrend = ETS(ErrorAdditive, TrendDamped, SeasonNone)
)

func (m Model) String() string {
	switch m.Method {
	case MethodTheta:
		return "Theta"
	case MethodSeasonalNaive:
		return "SNaive"
	case MethodETS:
		e := map[ErrorType]string{ErrorAdditive: "A", ErrorMultiplicative: "M"}[m.Error]
		t := map[TrendType]string{TrendNone: "N", TrendAdditive: "A", TrendDamped: "Ad"}[m.Trend]
		s := map[SeasonType]string{SeasonNone: "N", SeasonAdditive: "A", SeasonMultiplicative: "M"}[m.Season]
		if e == "" || t == "" || s == "" {
			return "invalid"
		}
		return "ETS(" + e + "," + t + "," + s + ")"
	}
	return "invalid"
}

func (m Model) valid() bool { return m.String() != "invalid" }

// multiplicative says whether the model needs strictly positive data.
func (m Model) multiplicative() bool {
	return m.Method == MethodETS && (m.Error == ErrorMultiplicative || m.Season == SeasonMultiplicative)
}

// UnknownModelError says a model name or value is not one this package fits.
type UnknownModelError struct{ Name string }

func (e *UnknownModelError) Error() string {
	return fmt.Sprintf("forecast: unknown model %q (want ETS(E,T,S) with E in A,M; T in N,A,Ad; S in N,A,M; Theta; or SNaive)", e.Name)
}

// ParseModel reads a name as printed by Model.String, e.g. "ETS(A,Ad,N)".
func ParseModel(name string) (Model, error) {
	cands := []Model{Theta, SeasonalNaive}
	for _, e := range []ErrorType{ErrorAdditive, ErrorMultiplicative} {
		for _, t := range []TrendType{TrendNone, TrendAdditive, TrendDamped} {
			for _, s := range []SeasonType{SeasonNone, SeasonAdditive, SeasonMultiplicative} {
				cands = append(cands, ETS(e, t, s))
			}
		}
	}
	for _, m := range cands {
		if strings.EqualFold(strings.ReplaceAll(name, " ", ""), m.String()) {
			return m, nil
		}
	}
	return Model{}, &UnknownModelError{Name: name}
}

// allModels lists every candidate in a fixed order: the 15 ETS models
// without additive error and multiplicative seasonality (Hyndman et al. 2008,
// §15.1: those are numerically unstable), then Theta and seasonal naive.
func allModels() []Model {
	var ms []Model
	for _, e := range []ErrorType{ErrorAdditive, ErrorMultiplicative} {
		for _, t := range []TrendType{TrendNone, TrendAdditive, TrendDamped} {
			for _, s := range []SeasonType{SeasonNone, SeasonAdditive, SeasonMultiplicative} {
				if e == ErrorAdditive && s == SeasonMultiplicative {
					continue
				}
				ms = append(ms, ETS(e, t, s))
			}
		}
	}
	return append(ms, Theta, SeasonalNaive)
}
