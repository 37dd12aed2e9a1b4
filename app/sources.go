package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// Key is the setting's key in a config file: its name without JARVIS_, in lower case.
func (s Setting) Key() string { return strings.ToLower(strings.TrimPrefix(s.Name, "JARVIS_")) }

// FlagValue is a setting given on the command line.
type FlagValue struct {
	Setting string // such as JARVIS_DATA_DIR
	Flag    string // such as --data-dir, for messages
	Value   string
}

// Sources are where the settings come from; each overrides the one before: the defaults, a
// YAML file, the environment, then command-line flags.
type Sources struct {
	File   string                      // a YAML file of settings by Key; empty for none
	Lookup func(string) (string, bool) // the environment (os.LookupEnv in the binary)
	Flags  []FlagValue
}

// pairSettings are the settings whose value is class=value pairs, which a file may also give
// as a map.
var pairSettings = []string{"JARVIS_RATE_LIMITS"}

// Load reads the settings from src and validates them as LoadConfig does, reporting every
// invalid value at once; a value that came from the file or a flag is named by its key in the
// file or by the flag. A relative data directory or sqlite: database of the file is taken from
// the file's folder, and from the working directory otherwise; both are made absolute, so that
// every command names the same database, and says which, wherever it is run from.
func Load(src Sources) (Config, error) {
	merged := koanf.New(".")
	origin := map[string]string{} // how a message names a setting that did not come from the environment
	var errs []error
	if src.File != "" {
		values, fileErrs, err := readSettingsFile(src.File)
		if err != nil {
			return Config{}, err
		}
		errs = append(errs, fileErrs...)
		for name, v := range values {
			if err := merged.Set(name, v); err != nil {
				return Config{}, err
			}
			origin[name] = fmt.Sprintf("%s (in %s)", strings.ToLower(strings.TrimPrefix(name, "JARVIS_")), src.File)
		}
	}
	for _, s := range Settings {
		if v, ok := src.Lookup(s.Name); ok && strings.TrimSpace(v) != "" {
			if err := merged.Set(s.Name, v); err != nil {
				return Config{}, err
			}
			delete(origin, s.Name)
		}
	}
	for _, f := range src.Flags {
		if err := merged.Set(f.Setting, f.Value); err != nil {
			return Config{}, err
		}
		origin[f.Setting] = f.Flag
	}
	lookup := func(name string) (string, bool) {
		if merged.Exists(name) {
			return merged.String(name), true
		}
		return src.Lookup(name)
	}
	cfg, err := LoadConfig(lookup)
	if err != nil {
		errs = append(errs, errors.New(renameSettings(strings.TrimPrefix(err.Error(), "invalid configuration:\n"), origin)))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	wd, err := os.Getwd()
	if err != nil {
		return Config{}, fmt.Errorf("find the working directory for the data directory: %w", err)
	}
	cfg.DataDir = fromFolder("JARVIS_DATA_DIR", cfg.DataDir, wd)
	cfg.DatabaseURL = fromFolder("JARVIS_DATABASE_URL", cfg.DatabaseURL, wd)
	return cfg, nil
}

// fromFolder is the value of a setting that names a file or folder (the data directory, a
// sqlite: database) with a relative path taken from folder.
func fromFolder(name, value, folder string) string {
	switch {
	case name == "JARVIS_DATA_DIR" && value != "" && !filepath.IsAbs(value):
		return filepath.Join(folder, value)
	case name == "JARVIS_DATABASE_URL" && strings.HasPrefix(value, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(value, "sqlite:"), "//")
		if p != "" && !filepath.IsAbs(p) {
			return "sqlite:" + filepath.Join(folder, p)
		}
	}
	return value
}

var settingName = regexp.MustCompile(`\bJARVIS_[A-Z0-9_]+\b`)

// renameSettings names each setting in msg as origin says where it came from.
func renameSettings(msg string, origin map[string]string) string {
	return settingName.ReplaceAllStringFunc(msg, func(name string) string {
		if o, ok := origin[name]; ok {
			return o
		}
		return name
	})
}

// readSettingsFile reads a YAML file of settings by key, giving each value as the environment
// would write it. Keys that are no setting and values that are no setting's are reported all
// together as errs; err is a file that cannot be read or parsed.
func readSettingsFile(path string) (values map[string]string, errs []error, err error) {
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		return nil, nil, fmt.Errorf("read the config file %s: %w", path, err)
	}
	byKey := map[string]string{}
	for _, s := range Settings {
		byKey[s.Key()] = s.Name
	}
	raw := k.Raw()
	keys := make([]string, 0, len(raw))
	for key := range raw {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	values = map[string]string{}
	for _, key := range keys {
		name, ok := byKey[key]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %q is not a setting; jarvis config lists each setting's key", path, key))
			continue
		}
		v, ok := settingText(raw[key], slices.Contains(pairSettings, name))
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s: want a single value (or a list of them), not %T", path, key, raw[key]))
			continue
		}
		if v == "" {
			continue
		}
		v = fromFolder(name, v, filepath.Dir(path))
		values[name] = v
	}
	return values, errs, nil
}

// settingText writes a YAML value as the environment would: scalars as text, a list with
// commas, and, where pairs is set, a map as key=value pairs.
func settingText(v any, pairs bool) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case []any:
		parts := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := settingText(item, false)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), true
	case map[string]any:
		if !pairs {
			return "", false
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, 0, len(v))
		for _, k := range keys {
			s, ok := settingText(v[k], false)
			if !ok {
				return "", false
			}
			parts = append(parts, k+"="+s)
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}
