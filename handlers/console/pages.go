package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/jobs"
	"github.com/aidawg/jarvis/services/keys"
	"github.com/aidawg/jarvis/services/ratelimit"
	"github.com/aidawg/jarvis/services/tenantdata"
	"github.com/aidawg/jarvis/services/usage"
)

var pageNames = []string{"login", "error", "overview", "keys", "usage", "data", "settings"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"ms": func(d time.Duration) string {
			if d <= 0 {
				return "–"
			}
			return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
		},
		"join": strings.Join,
		"mul":  func(a, b float64) float64 { return a * b },
		"add":  func(a, b float64) float64 { return a + b },
		"chart": func(id, label string, bars []bar, height int) map[string]any {
			return map[string]any{"ID": id, "Label": label, "Bars": bars, "Height": height}
		},
		"table": func(caption string, rows []usage.OperationStats) map[string]any {
			return map[string]any{"Caption": caption, "Rows": rows}
		},
		"day": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes page with data, adding what the layout needs: the page's name for the
// navigation and, when signed in, the operator and the CSRF token.
func (c *Console) render(ec echo.Context, status int, page string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["Page"] = page
	if op := operatorOf(ec); op != nil {
		data["Operator"] = op
		data["CSRF"] = op.CSRF
	}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return ec.HTMLBlob(status, buf.Bytes())
}

// errPlainHTTP is the answer to a sign-in over plain http to a host other than loopback.
const errPlainHTTP = "The console signs in only over https (or plain http on a loopback address): set JARVIS_PUBLIC_URL to the https address Jarvis is reached at."

func (c *Console) loginPage(ec echo.Context) error {
	if c.plainRefused {
		return c.refuse(ec, http.StatusForbidden, errPlainHTTP)
	}
	nonce, set := c.sessions.loginNonce(ec.Request())
	if set != nil {
		ec.SetCookie(set)
	}
	return c.render(ec, http.StatusOK, "login", map[string]any{"Title": "Sign in",
		"LoginToken": c.sessions.loginToken(nonce), "Next": safeNext(ec.QueryParam("next"))})
}

// safeNext keeps a redirect after sign-in inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, Path+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return Path + "/"
}

// login exchanges an admin API key for a session. Failed attempts count against the client
// address's failed-login limit, as they do on the API.
func (c *Console) login(ec echo.Context) error {
	if c.plainRefused {
		return c.refuse(ec, http.StatusForbidden, errPlainHTTP)
	}
	r := ec.Request()
	ctx := r.Context()
	if !c.sessions.checkLogin(r, ec.FormValue("csrf")) {
		return c.refuse(ec, http.StatusForbidden, "The sign-in form's CSRF token is missing or stale. Open the sign-in page again and send the form from there.")
	}
	addr := ec.RealIP()
	if c.d.Limiter != nil {
		if d, err := c.d.Limiter.AuthAllowed(ctx, addr); err == nil && !d.Allowed {
			ec.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(d.RetryAfter(time.Now())))
			return c.refuse(ec, http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins from your address. Try again in %d seconds.", d.RetryAfter(time.Now())))
		}
	}
	fail := func(msg string) error {
		if c.d.Limiter != nil {
			_, _ = c.d.Limiter.AuthFailed(ctx, addr)
		}
		nonce, _ := c.sessions.loginNonce(r)
		return c.render(ec, http.StatusUnauthorized, "login", map[string]any{"Title": "Sign in", "Error": msg,
			"LoginToken": c.sessions.loginToken(nonce), "Next": safeNext(ec.FormValue("next"))})
	}
	id, secret, ok := keys.Parse(strings.TrimSpace(ec.FormValue("key")))
	if !ok {
		return fail("That is not an API key. Paste a whole key, which starts with jv_.")
	}
	k, err := c.d.Keys.Get(ctx, id)
	if err != nil || !k.Verify(secret) || k.Revoked() {
		if se, ok := services.AsError(err); err != nil && (!ok || se.Code != services.CodeNotFound) {
			return err
		}
		return fail("The key is unknown or revoked.")
	}
	if !slices.Contains(k.Scopes, services.ScopeAdmin) {
		return fail("The key has no admin scope; the console needs a key created with --scopes admin.")
	}
	cookie, _ := c.sessions.issue(k.ID)
	ec.SetCookie(cookie)
	_, loginName := c.sessions.names()
	ec.SetCookie(c.sessions.cookie(loginName, "", -1))
	return ec.Redirect(http.StatusSeeOther, safeNext(ec.FormValue("next")))
}

func (c *Console) logout(ec echo.Context) error {
	c.sessions.end(operatorOf(ec).Session)
	name, _ := c.sessions.names()
	ec.SetCookie(c.sessions.cookie(name, "", -1))
	return ec.Redirect(http.StatusSeeOther, Path+"/login")
}

// bar is one bar of a server-drawn chart.
type bar struct {
	Label string
	Value int64
	Width float64 // of 100
	Y     int
}

func bars(labels []string, values []int64) []bar {
	var top int64 = 1
	for _, v := range values {
		top = max(top, v)
	}
	out := make([]bar, len(values))
	for i, v := range values {
		out[i] = bar{Label: labels[i], Value: v, Width: 100 * float64(v) / float64(top), Y: i * 28}
	}
	return out
}

type moduleRow struct {
	Name, Route, Circuit string
	Implemented, Total   int
}

func (c *Console) overview(ec echo.Context) error {
	ctx := ec.Request().Context()
	hour, day := c.d.Recent.Stats(usage.LastHour), c.d.Recent.Stats(usage.LastDay)
	var limitedHour, limitedDay int64
	for _, s := range hour {
		limitedHour += s.Limited
	}
	for _, s := range day {
		limitedDay += s.Limited
	}
	labels, values := []string{}, []int64{}
	for _, s := range hour {
		labels, values = append(labels, s.Operation), append(values, s.Calls)
	}
	counts := map[jobs.Status]int{}
	if c.d.Jobs != nil {
		var err error
		if counts, err = c.d.Jobs.Store().JobCounts(ctx); err != nil {
			return err
		}
	}
	var jobLabels []string
	var jobValues []int64
	for _, st := range []jobs.Status{jobs.Queued, jobs.Running, jobs.Completed, jobs.Failed, jobs.Cancelled} {
		jobLabels, jobValues = append(jobLabels, string(st)), append(jobValues, int64(counts[st]))
	}
	var mods []moduleRow
	if rt := c.d.Router; rt != nil {
		var circuits map[string]string
		if rt.Remote() != nil {
			circuits = rt.Remote().Circuits()
		}
		for _, m := range rt.Embedded().Contract().Modules() {
			impl, total := rt.Embedded().Implemented(m)
			row := moduleRow{Name: m, Implemented: len(impl), Total: total, Route: "embedded", Circuit: "–"}
			if rt.Remote() != nil {
				row.Route, row.Circuit = "remote", circuits[m]
				if rt.Fallback() {
					row.Route = "remote, embedded fallback"
				}
			}
			mods = append(mods, row)
		}
	}
	return c.render(ec, http.StatusOK, "overview", map[string]any{"Title": "Overview",
		"Hour": hour, "Day": day, "LimitedHour": limitedHour, "LimitedDay": limitedDay,
		"CallBars": bars(labels, values), "CallChartHeight": max(len(values), 1) * 28,
		"JobBars": bars(jobLabels, jobValues), "Modules": mods})
}

type keyRow struct {
	keys.Key
	Limits string
}

func (c *Console) keysPage(ec echo.Context) error {
	return c.renderKeys(ec, http.StatusOK, map[string]any{})
}

func (c *Console) renderKeys(ec echo.Context, status int, data map[string]any) error {
	list, err := c.d.Keys.List(ec.Request().Context(), ec.QueryParam("all") == "1")
	if err != nil {
		return err
	}
	rows := make([]keyRow, len(list))
	for i, k := range list {
		rows[i] = keyRow{Key: k, Limits: ratelimit.FormatRates(k.Limits)}
	}
	data["Title"] = "API keys"
	data["Keys"] = rows
	data["Scopes"] = services.AllScopes
	data["All"] = ec.QueryParam("all") == "1"
	return c.render(ec, status, "keys", data)
}

// createKey makes a key and shows its secret in this answer only: it is not stored, so no
// later page can show it again.
func (c *Console) createKey(ec echo.Context) error {
	form, _ := ec.FormParams()
	n := keys.NewKey{Name: strings.TrimSpace(form.Get("name")), Tenant: strings.TrimSpace(form.Get("tenant")),
		User: strings.TrimSpace(form.Get("user")), Scopes: form["scopes"]}
	var problems []string
	if v := strings.TrimSpace(form.Get("limits")); v != "" {
		rates, err := ratelimit.ParseRates(v)
		if err != nil {
			problems = append(problems, "Limits: "+err.Error())
		}
		n.Limits = rates
	}
	if v := strings.TrimSpace(form.Get("quota")); v != "" {
		q, err := strconv.ParseInt(v, 10, 64)
		if err != nil || q < 0 {
			problems = append(problems, "Daily quota: give a whole number of long actions per day, 0 for the default.")
		}
		n.DailyQuota = q
	}
	if len(problems) == 0 {
		k, secret, err := c.d.Keys.Create(ec.Request().Context(), n)
		if err == nil {
			return c.renderKeys(ec, http.StatusCreated, map[string]any{"Created": k, "Secret": secret})
		}
		se, ok := services.AsError(err)
		if !ok || se.Code != services.CodeValidation {
			return err
		}
		problems = append(problems, strings.Split(se.Detail, "\n")...)
	}
	return c.renderKeys(ec, http.StatusUnprocessableEntity, map[string]any{"Problems": problems, "Form": form})
}

func (c *Console) revokeKey(ec echo.Context) error {
	id := ec.Param("id")
	if !keys.ValidID(id) {
		return c.refuse(ec, http.StatusNotFound, "There is no such key.")
	}
	k, err := c.d.Keys.Revoke(ec.Request().Context(), id)
	if se, ok := services.AsError(err); ok && se.Code == services.CodeNotFound {
		return c.refuse(ec, http.StatusNotFound, "There is no such key.")
	} else if err != nil {
		return err
	}
	if c.d.Revoked != nil {
		c.d.Revoked(k.ID)
	}
	return c.renderKeys(ec, http.StatusOK, map[string]any{"Revoked": k})
}

// usageFilter reads the usage page's filter: the last 7 days unless from and to say otherwise.
func usageFilter(ec echo.Context) (usage.Filter, []string) {
	today := time.Now().UTC()
	f := usage.Filter{From: today.AddDate(0, 0, -6).Format(usage.DayLayout), To: today.Format(usage.DayLayout),
		KeyID: strings.TrimSpace(ec.QueryParam("key")), Operation: strings.TrimSpace(ec.QueryParam("operation")), Limit: 1000}
	var problems []string
	for _, p := range []struct {
		name string
		dst  *string
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := strings.TrimSpace(ec.QueryParam(p.name)); v != "" {
			if _, err := time.Parse(usage.DayLayout, v); err != nil {
				problems = append(problems, fmt.Sprintf("%q is not a day such as 2026-11-01; %s was left at %s.", v, p.name, *p.dst))
				continue
			}
			*p.dst = v
		}
	}
	return f, problems
}

// usageRows reads every row of f, page after page.
func (c *Console) usageRows(ctx context.Context, f usage.Filter) ([]usage.Row, error) {
	var all []usage.Row
	for {
		rows, next, err := c.d.Usage.Query(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, rows...)
		if next == "" || len(all) >= 100000 {
			return all, nil
		}
		f.Cursor = next
	}
}

func (c *Console) usagePage(ec echo.Context) error {
	f, problems := usageFilter(ec)
	rows, err := c.usageRows(ec.Request().Context(), f)
	if err != nil {
		return err
	}
	var total usage.Row
	for _, r := range rows {
		total.Calls += r.Calls
		total.Errors += r.Errors
		total.DurationMs += r.DurationMs
	}
	return c.render(ec, http.StatusOK, "usage", map[string]any{"Title": "Usage", "Filter": f, "Rows": rows,
		"Total": total, "Problems": problems, "CSVQuery": ec.QueryString()})
}

func (c *Console) usageCSV(ec echo.Context) error {
	f, problems := usageFilter(ec)
	if len(problems) > 0 {
		return c.refuse(ec, http.StatusBadRequest, strings.Join(problems, " "))
	}
	rows, err := c.usageRows(ec.Request().Context(), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"day", "subject", "operation", "method", "key_id", "tenant", "user", "calls", "errors", "duration_ms"})
	for _, r := range rows {
		_ = w.Write([]string{r.Day, r.Subject, r.Operation, r.Method, r.KeyID, csvSafe(r.Tenant), csvSafe(r.User),
			strconv.FormatInt(r.Calls, 10), strconv.FormatInt(r.Errors, 10), strconv.FormatInt(r.DurationMs, 10)})
	}
	w.Flush()
	ec.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="usage-%s-%s.csv"`, f.From, f.To))
	return ec.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvSafe keeps a value a spreadsheet would run as a formula from being one.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (c *Console) dataPage(ec echo.Context) error {
	return c.renderData(ec, http.StatusOK, strings.TrimSpace(ec.QueryParam("tenant")), map[string]any{})
}

func (c *Console) renderData(ec echo.Context, status int, tenant string, data map[string]any) error {
	ctx := ec.Request().Context()
	tenants, err := c.d.Data.Tenants(ctx)
	if err != nil {
		return err
	}
	if tenant == "" && len(tenants) > 0 {
		tenant = tenants[0]
	}
	if tenant != "" {
		cov, err := c.d.Data.Coverage(ctx, tenant)
		if err != nil {
			return err
		}
		data["Coverage"] = cov
	}
	data["Title"] = "Data"
	data["Tenant"] = tenant
	data["Tenants"] = tenants
	data["Kinds"] = tenantdata.Kinds
	return c.render(ec, status, "data", data)
}

// upload imports one file through the importer: all of it or, when any row is rejected,
// nothing, with the report listing the rejected rows.
func (c *Console) upload(ec echo.Context) error {
	tenant := strings.TrimSpace(ec.FormValue("tenant"))
	kind, ok := tenantdata.ParseKind(ec.FormValue("kind"))
	if !ok || tenant == "" {
		return c.renderData(ec, http.StatusUnprocessableEntity, tenant, map[string]any{"UploadError": "Choose a tenant and a kind of data."})
	}
	fh, err := ec.FormFile("file")
	if err != nil {
		return c.renderData(ec, http.StatusUnprocessableEntity, tenant, map[string]any{"UploadError": "Choose a file to import."})
	}
	format, ok := tenantdata.ParseFormat(ec.FormValue("format"))
	if !ok {
		name := strings.ToLower(fh.Filename)
		format = tenantdata.CSV
		if strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".ndjson") {
			format = tenantdata.JSONL
		}
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := c.d.Data.Import(ec.Request().Context(), tenant, kind, format, f)
	data := map[string]any{"Report": rep, "File": fh.Filename}
	if err != nil {
		se, ok := services.AsError(err)
		if !ok || (se.Code != services.CodeUnprocessable && se.Code != services.CodeValidation) {
			return err
		}
		data["UploadError"] = se.Detail
		if rep.Kind == "" {
			delete(data, "Report")
		}
		return c.renderData(ec, http.StatusUnprocessableEntity, tenant, data)
	}
	return c.renderData(ec, http.StatusOK, tenant, data)
}

type readiness struct {
	Name, State string
	OK          bool
}

func (c *Console) settingsPage(ec echo.Context) error {
	ctx, cancel := context.WithTimeout(ec.Request().Context(), 2*time.Second)
	defer cancel()
	var ready []readiness
	for _, rc := range c.d.Ready {
		r := readiness{Name: rc.Name, State: "ready", OK: true}
		if err := rc.Check(ctx); err != nil {
			r.State, r.OK = err.Error(), false
			if errors.Is(err, context.DeadlineExceeded) {
				r.State = "no answer within 2s"
			}
		}
		ready = append(ready, r)
	}
	return c.render(ec, http.StatusOK, "settings", map[string]any{"Title": "Settings", "Settings": c.d.Settings, "Ready": ready})
}
