package pyjson

import "strconv"

// Value is one of Object (by pointer), Array, String, Int, Float, Bool and
// Null.
type Value interface{ isValue() }

// String is a JSON string. It is UTF-8, except that a lone surrogate (which
// Python strings can hold and JSON can escape) is kept as its 3-byte WTF-8
// encoding.
type String string

// Int is an integer of any size, as Python's int.
type Int struct{ dec string } // canonical decimal: no leading zeros, no "-0"

// Float is a JSON number with a fraction or an exponent, as Python's float.
type Float float64

// Bool is true or false.
type Bool bool

// Null is null (Python's None).
type Null struct{}

// Array is a JSON array (Python's list).
type Array []Value

func (String) isValue()  {}
func (Int) isValue()     {}
func (Float) isValue()   {}
func (Bool) isValue()    {}
func (Null) isValue()    {}
func (Array) isValue()   {}
func (*Object) isValue() {}

// NewInt returns the Int of i.
func NewInt(i int64) Int { return Int{dec: strconv.FormatInt(i, 10)} }

// String returns the decimal form Python prints.
func (i Int) String() string {
	if i.dec == "" {
		return "0"
	}
	return i.dec
}

// Int64 returns i and whether it fits in an int64.
func (i Int) Int64() (int64, bool) {
	n, err := strconv.ParseInt(i.String(), 10, 64)
	return n, err == nil
}

// Strings returns an Array of Strings.
func Strings(ss []string) Array {
	a := make(Array, len(ss))
	for i, s := range ss {
		a[i] = String(s)
	}
	return a
}

// AsStrings returns the elements of v when v is an Array of Strings.
func AsStrings(v Value) ([]string, bool) {
	a, ok := v.(Array)
	if !ok {
		return nil, false
	}
	ss := make([]string, len(a))
	for i, e := range a {
		s, ok := e.(String)
		if !ok {
			return nil, false
		}
		ss[i] = string(s)
	}
	return ss, true
}

// Member is one key and value of an Object.
type Member struct {
	Key   string
	Value Value
}

// Object is a JSON object that keeps its keys in insertion order, as a
// Python dict does. The zero value is an empty object; so is a nil *Object
// for reading (Len, Members, Keys, Get, Clone, Dumps).
type Object struct {
	members []Member
	index   map[string]int
}

// NewObject returns an object holding members, in order; a repeated key
// keeps its first position and its last value.
func NewObject(members ...Member) *Object {
	o := &Object{}
	for _, m := range members {
		o.Set(m.Key, m.Value)
	}
	return o
}

// Len returns the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.members)
}

// Members returns the members in order. The slice must not be modified.
func (o *Object) Members() []Member {
	if o == nil {
		return nil
	}
	return o.members
}

// Keys returns the keys in order.
func (o *Object) Keys() []string {
	keys := make([]string, o.Len())
	for i, m := range o.Members() {
		keys[i] = m.Key
	}
	return keys
}

// Get returns the value of key.
func (o *Object) Get(key string) (Value, bool) {
	if o == nil {
		return nil, false
	}
	i, ok := o.index[key]
	if !ok {
		return nil, false
	}
	return o.members[i].Value, true
}

// Set gives key the value v: in place when key exists (its position is
// kept, as with a dict), else appended at the end.
func (o *Object) Set(key string, v Value) {
	if i, ok := o.index[key]; ok {
		o.members[i].Value = v
		return
	}
	if o.index == nil {
		o.index = make(map[string]int)
	}
	o.index[key] = len(o.members)
	o.members = append(o.members, Member{Key: key, Value: v})
}

// Delete removes key, if present.
func (o *Object) Delete(key string) {
	i, ok := o.index[key]
	if !ok {
		return
	}
	o.members = append(o.members[:i], o.members[i+1:]...)
	delete(o.index, key)
	for j := i; j < len(o.members); j++ {
		o.index[o.members[j].Key] = j
	}
}

// Clone returns a deep copy of v.
func Clone(v Value) Value {
	switch v := v.(type) {
	case *Object:
		c := &Object{}
		for _, m := range v.Members() {
			c.Set(m.Key, Clone(m.Value))
		}
		return c
	case Array:
		c := make(Array, len(v))
		for i, e := range v {
			c[i] = Clone(e)
		}
		return c
	}
	return v
}
