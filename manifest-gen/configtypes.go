package main

import (
	"fmt"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/pyjson"
)

// fieldType is the JSON type a config field's readers decode it into.
type fieldType int

const (
	typeString    fieldType = iota
	typeBool                // true or false
	typeStrings             // a list of strings
	typeSet                 // an object of objects: {"80/tcp": {}}
	typeStringMap           // an object of strings
	typeInt                 // an integer that fits in 64 bits
	typeObject
)

var typeNames = map[fieldType]string{
	typeString: "a string", typeBool: "true or false", typeStrings: "a list of strings",
	typeSet: "an object of objects", typeStringMap: "an object of strings",
	typeInt: "an integer", typeObject: "an object",
}

// configFields are the fields of a Docker config (moby's container.Config
// and the OCI image-spec's ImageConfig, which docker load, skopeo and
// containerd decode the image config into), by lower-cased name: Go's JSON
// decoder matches names regardless of case, so "env" is Env to them. A
// field of another type makes an image every such reader refuses; other
// fields are copied as they are.
var configFields = map[string]fieldType{
	"hostname": typeString, "domainname": typeString, "user": typeString, "image": typeString,
	"workingdir": typeString, "macaddress": typeString, "stopsignal": typeString,
	"attachstdin": typeBool, "attachstdout": typeBool, "attachstderr": typeBool, "tty": typeBool,
	"openstdin": typeBool, "stdinonce": typeBool, "argsescaped": typeBool, "networkdisabled": typeBool,
	"env": typeStrings, "cmd": typeStrings, "entrypoint": typeStrings, "onbuild": typeStrings, "shell": typeStrings,
	"exposedports": typeSet, "volumes": typeSet,
	"labels":      typeStringMap,
	"stoptimeout": typeInt,
	"healthcheck": typeObject,
}

// nestedFields are the fields of the configFields that are objects with
// fields of their own: Healthcheck's times are nanoseconds.
var nestedFields = map[string]map[string]fieldType{
	"healthcheck": {"test": typeStrings, "interval": typeInt, "timeout": typeInt, "startperiod": typeInt,
		"startinterval": typeInt, "retries": typeInt},
}

// checkConfigTypes returns an error naming the first field of cfg (a
// Docker config) whose value has a type its readers refuse; prefix goes
// before the field's name. null is any field's zero value, as Go reads it.
func checkConfigTypes(cfg *pyjson.Object, prefix string) error {
	return checkFields(cfg, configFields, prefix)
}

func checkFields(obj *pyjson.Object, fields map[string]fieldType, prefix string) error {
	seen := map[string]string{} // field → the member's key that names it
	for _, m := range obj.Members() {
		key, t, known := fieldOf(fields, m.Key)
		if !known {
			continue
		}
		if other, twice := seen[key]; twice {
			// Go's decoder keeps the last; the tools merge Env and Labels
			// by one spelling: the image would not be what they made.
			return namedTwice(prefix+other, prefix+m.Key)
		}
		seen[key] = m.Key
		if m.Value == (pyjson.Null{}) {
			continue
		}
		name := prefix + m.Key
		if !hasType(m.Value, t) {
			return fmt.Errorf("%s is not %s: %w", name, typeNames[t], errdefs.ErrInvalidInput)
		}
		if nested, ok := nestedFields[key]; ok && t == typeObject {
			if err := checkFields(m.Value.(*pyjson.Object), nested, name+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldOf finds the field named name as Go's JSON decoder does, by
// Unicode simple case folding (so "Labelſ", with a long s, is Labels,
// which lower-casing misses), and returns its key in fields.
func fieldOf(fields map[string]fieldType, name string) (string, fieldType, bool) {
	if t, ok := fields[strings.ToLower(name)]; ok {
		return strings.ToLower(name), t, true
	}
	for key, t := range fields {
		if strings.EqualFold(key, name) {
			return key, t, true
		}
	}
	return "", 0, false
}

// keyOf is the key of cfg's member that names the config field name
// (Env, Cmd, …) for Go's decoder, which folds case ("env" is Env), or name
// when no member does. checkConfigTypes lets one member at most name a
// field.
func keyOf(cfg *pyjson.Object, name string) string {
	if _, ok := cfg.Get(name); ok {
		return name
	}
	for _, k := range cfg.Keys() {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

// memberOf is the value of obj's member that names the field name for
// Go's decoder (docker load's: "Config" is an image config's config), nil
// when none does; two members naming it are an error, as in checkFields.
func memberOf(obj *pyjson.Object, name string) (pyjson.Value, error) {
	var v pyjson.Value
	key := ""
	for _, m := range obj.Members() {
		if !strings.EqualFold(m.Key, name) {
			continue
		}
		if key != "" {
			return nil, namedTwice(key, m.Key)
		}
		v, key = m.Value, m.Key
	}
	return v, nil
}

// namedTwice is the error of two members, a and b, that name one field.
func namedTwice(a, b string) error {
	return fmt.Errorf("%s and %s name one field, which Docker's decoder reads from the last of them: %w", errdefs.Quote(a), errdefs.Quote(b), errdefs.ErrInvalidInput)
}

// hasType reports whether v is of type t.
func hasType(v pyjson.Value, t fieldType) bool {
	switch t {
	case typeString:
		_, ok := v.(pyjson.String)
		return ok
	case typeBool:
		_, ok := v.(pyjson.Bool)
		return ok
	case typeStrings:
		_, ok := pyjson.AsStrings(v)
		return ok
	case typeInt:
		i, ok := v.(pyjson.Int)
		if ok {
			_, ok = i.Int64()
		}
		return ok
	case typeObject:
		_, ok := v.(*pyjson.Object)
		return ok
	case typeSet, typeStringMap:
		obj, ok := v.(*pyjson.Object)
		elem := typeString
		if t == typeSet {
			elem = typeObject
		}
		for _, m := range obj.Members() {
			ok = ok && hasType(m.Value, elem)
		}
		return ok
	}
	return false
}
