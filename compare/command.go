package compare

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/genopt/gen/train"
)

// Command returns the `gen train` command line that runs cfg: one flag per
// non-zero field of cfg, named after the field's JSON key in kebab case
// (the gen command's convention), and --seed always. Zero fields are left
// to their defaults, which train.Config and the command share.
func Command(cfg train.Config) string {
	args := []string{"gen", "train"}
	v := reflect.ValueOf(cfg)
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if key == "" || key == "-" {
			continue
		}
		flag := "--" + strings.ReplaceAll(key, "_", "-")
		switch x := fv.Interface().(type) {
		case []int:
			if x == nil {
				continue
			}
			s := make([]string, len(x))
			for j, n := range x {
				s[j] = strconv.Itoa(n)
			}
			args = append(args, flag+"="+strings.Join(s, ","))
		case *float64:
			if x != nil {
				args = append(args, flag, strconv.FormatFloat(*x, 'g', -1, 64))
			}
		case *int:
			if x != nil {
				args = append(args, flag, strconv.Itoa(*x))
			}
		case *bool:
			if x != nil {
				args = append(args, flag+"="+strconv.FormatBool(*x))
			}
		case bool:
			if x {
				args = append(args, flag)
			}
		case string:
			if x != "" {
				args = append(args, flag, quote(x))
			}
		case float64:
			if x != 0 {
				args = append(args, flag, strconv.FormatFloat(x, 'g', -1, 64))
			}
		case int:
			if x != 0 {
				args = append(args, flag, strconv.Itoa(x))
			}
		case uint64:
			args = append(args, flag, strconv.FormatUint(x, 10))
		default:
			panic("compare: Command: no flag form for field " + f.Name + " of type " + f.Type.String())
		}
	}
	return strings.Join(args, " ")
}

// quote single-quotes s for a POSIX shell when it holds anything but
// letters, digits and -_.:,/.
func quote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:,/", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
