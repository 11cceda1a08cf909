// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package jobspec

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestFunctions calls every function a job file may use, through a real
// job file, and checks its result as JSON. A function missing from the
// table fails the test, so a new function cannot land untested.
func TestFunctions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "hello\n")
	write("conf/b.tpl", "port=${port}%{ for s in servers }\nserver ${s}%{ endfor }")
	write("conf/sub/c.tpl", "x")
	home, _ := os.UserHomeDir()

	// A test key and a ciphertext of "secret" made with it (openssl
	// pkeyutl -encrypt, PKCS #1 v1.5).
	key, cipher := testRSAKey(t)

	cases := []struct {
		expr string
		want string // JSON, or a regexp when it starts with "~"
	}{
		{`abs(-3)`, `3`},
		{`abspath("x")`, `~^"/.*/x"$`},
		{`base64decode("aGk=")`, `"hi"`},
		{`base64encode("hi")`, `"aGk="`},
		{`basename("/a/b.txt")`, `"b.txt"`},
		{`bcrypt("hello world")`, `~^"\$2a\$10\$[./A-Za-z0-9]{53}"$`},
		{`bcrypt("hello world", 4)`, `~^"\$2a\$04\$[./A-Za-z0-9]{53}"$`},
		{`can(var.nope)`, `false`},
		{`ceil(1.2)`, `2`},
		{`chomp("x\n")`, `"x"`},
		{`chunklist([1, 2, 3], 2)`, `[[1,2],[3]]`},
		{`cidrhost("10.0.0.0/24", 5)`, `"10.0.0.5"`},
		{`cidrhost("10.0.0.0/24", -2)`, `"10.0.0.254"`},
		{`cidrhost("fd00::/64", 17)`, `"fd00::11"`},
		{`cidrnetmask("172.16.0.0/12")`, `"255.240.0.0"`},
		{`cidrsubnet("10.1.0.0/16", 8, 2)`, `"10.1.2.0/24"`},
		{`cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)`, `"fd00:fd12:3456:7800:a200::/72"`},
		{`cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)`, `["10.1.0.0/20","10.1.16.0/20","10.1.32.0/24","10.1.48.0/20"]`},
		{`coalesce("", "b")`, `"b"`},
		{`coalescelist([], ["a"])`, `["a"]`},
		{`compact(["a", "", "b"])`, `["a","b"]`},
		{`concat([1], [2])`, `[1,2]`},
		{`contains(["a"], "a")`, `true`},
		{`convert("5", number)`, `5`},
		{`csvdecode("a,b\n1,2\n")`, `[{"a":"1","b":"2"}]`},
		{`dirname("/a/b.txt")`, `"/a"`},
		{`distinct([1, 1, 2])`, `[1,2]`},
		{`element(["a", "b"], 3)`, `"b"`},
		{`file("@DIR@/a.txt")`, `"hello\n"`},
		{`fileexists("@DIR@/a.txt")`, `true`},
		{`fileexists("@DIR@/none")`, `false`},
		{`fileset("@DIR@", "conf/**/*.tpl")`, `["conf/b.tpl","conf/sub/c.tpl"]`},
		{`flatten([[1], [2, [3]]])`, `[1,2,3]`},
		{`floor(1.8)`, `1`},
		{`format("%s-%03d", "a", 7)`, `"a-007"`},
		{`formatdate("YYYY-MM-DD", "2024-02-03T04:05:06Z")`, `"2024-02-03"`},
		{`formatlist("%s=%s", ["a", "b"], "x")`, `["a=x","b=x"]`},
		{`indent(2, "a\nb")`, `"a\n  b"`},
		{`index(["a", "b"], "b")`, `1`},
		{`join(",", ["a", "b"])`, `"a,b"`},
		{`jsondecode("{\"a\":1}").a`, `1`},
		{`jsonencode({a = [true]})`, `"{\"a\":[true]}"`},
		{`keys({b = 1, a = 2})`, `["a","b"]`},
		{`length("héllo")`, `5`},
		{`length([1, 2])`, `2`},
		{`log(8, 2)`, `3`},
		{`lookup({a = 1}, "b", 0)`, `0`},
		{`lower("AB")`, `"ab"`},
		{`max(1, 5, 3)`, `5`},
		{`md5("hello")`, `"5d41402abc4b2a76b9719d911017c592"`},
		{`merge({a = 1}, {b = 2})`, `{"a":1,"b":2}`},
		{`min(4, 2)`, `2`},
		{`parseint("ff", 16)`, `255`},
		{`pathexpand("~/x")`, `"` + filepath.Join(home, "x") + `"`},
		{`pow(2, 10)`, `1024`},
		{`range(3)`, `[0,1,2]`},
		{`regex("v([0-9]+)", "v12")`, `["12"]`},
		{`regex_replace("a1b2", "[0-9]", "_")`, `"a_b_"`},
		{`regexall("[0-9]", "a1b2")`, `["1","2"]`},
		{`replace("a-b-c", "-", "+")`, `"a+b+c"`},
		{`reverse([1, 2])`, `[2,1]`},
		{`rsadecrypt("` + cipher + `", <<EOT
` + key + `EOT
)`, `"secret"`},
		{`setintersection(["a", "b"], ["b"])`, `["b"]`},
		{`setproduct(["a"], [1, 2])`, `[["a",1],["a",2]]`},
		{`setsubtract(["a", "b"], ["a"])`, `["b"]`},
		{`setunion(["a"], ["b"])`, `["a","b"]`},
		{`sha1("hello")`, `"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"`},
		{`sha256("hello")`, `"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"`},
		{`sha512("")`, `"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"`},
		{`signum(-4)`, `-1`},
		{`slice(["a", "b", "c"], 1, 3)`, `["b","c"]`},
		{`sort(["b", "a"])`, `["a","b"]`},
		{`split(",", "a,b")`, `["a","b"]`},
		{`strlen("abc")`, `3`},
		{`strrev("abc")`, `"cba"`},
		{`substr("hello", 1, 3)`, `"ell"`},
		{`templatefile("@DIR@/conf/b.tpl", { port = 80, servers = ["x", "y"] })`, `"port=80\nserver x\nserver y"`},
		{`timeadd("2024-01-01T00:00:00Z", "90m")`, `"2024-01-01T01:30:00Z"`},
		{`timestamp()`, `~^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$`},
		{`title("hello world")`, `"Hello World"`},
		{`tobool("true")`, `true`},
		{`tolist(["a"])`, `["a"]`},
		{`tomap({a = "b"})`, `{"a":"b"}`},
		{`tonumber("4")`, `4`},
		{`toset(["a", "a"])`, `["a"]`},
		{`tostring(5)`, `"5"`},
		{`trim("xxaxx", "x")`, `"a"`},
		{`trimprefix("foobar", "foo")`, `"bar"`},
		{`trimspace(" a ")`, `"a"`},
		{`trimsuffix("foobar", "bar")`, `"foo"`},
		{`try(var.nope, "fallback")`, `"fallback"`},
		{`upper("ab")`, `"AB"`},
		{`urlencode("a b&c")`, `"a+b%26c"`},
		{`uuidv4()`, `~^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$`},
		{`uuidv5("dns", "www.example.com")`, `"2ed6657d-e927-568b-95e1-2665a8aea6a2"`},
		{`values({a = 1, b = 2})`, `[1,2]`},
		{`yamldecode("a: 1\nb: [x, true]\nc: {d: ~}\n")`, `{"a":1,"b":["x",true],"c":{"d":null}}`},
		{`yamldecode("- yes\n- '1.0'\n")`, `[true,"1.0"]`},
		{`yamlencode({a = "b", c = [1, {d = true}], e = {}})`, `"\"a\": \"b\"\n\"c\":\n- 1\n- \"d\": true\n\"e\": {}\n"`},
		{`yamlencode("multi\nline")`, `"|-\n  multi\n  line\n"`},
		{`zipmap(["a"], [1])`, `{"a":1}`},
	}
	called := map[string]bool{}
	call := regexp.MustCompile(`([a-z_0-9]+)\(`)
	for _, tc := range cases {
		expr := strings.ReplaceAll(tc.expr, "@DIR@", dir) // "@" appears in neither base64 nor PEM
		for _, m := range call.FindAllStringSubmatch(expr, -1) {
			called[m[1]] = true
		}
		t.Run(tc.expr, func(t *testing.T) {
			src := "job \"f\" {\n  meta {\n    r = jsonencode(" + expr + ")\n  }\n}\n"
			job, err := Parse("f.nomad.hcl", []byte(src), &ParseOptions{AllowFS: true})
			if err != nil {
				t.Fatal(err)
			}
			got := job.Meta["r"]
			if re, ok := strings.CutPrefix(tc.want, "~"); ok {
				if !regexp.MustCompile(re).MatchString(got) {
					t.Fatalf("got %s, want a match for %s", got, re)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	for name := range functions(true) {
		if !called[name] {
			t.Errorf("function %s has no test case", name)
		}
	}
}

// TestFunctionLimits checks that calls that would build huge values fail
// quickly with a clear message instead of exhausting memory.
func TestFunctionLimits(t *testing.T) {
	// A "billion laughs" YAML document: ten aliases of ten aliases, nine
	// levels deep, in a few hundred bytes.
	laughs, prev := `a: &a [x,x,x,x,x,x,x,x,x,x]\n`, "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += n + ": &" + n + " [" + strings.Repeat("*"+prev+",", 9) + "*" + prev + "]\\n"
		prev = n
	}
	cases := []struct{ expr, want string }{
		{`yamldecode("` + laughs + `")`, "the document expands to more than 100000 values"},
		{`format("%99999999s", "")`, "width or precision 99999999 is too large"},
		{`formatlist("%099999s", ["a"])`, "width or precision 99999 is too large"},
		{`indent(5000, join("\n", range(1000)))`, "the result would be too large"},
		{`indent(-1, "a")`, "spaces must be a whole number"},
		{`replace(replace(replace(replace("aaaaaaaaaaaaaaaa", "a", "aaaaaaaaaaaaaaaa"), "a", "aaaaaaaaaaaaaaaa"), "a", "aaaaaaaaaaaaaaaa"), "a", "aaaaaaaaaaaaaaaa")`, "the result would be too large"},
		{`regex_replace(format("%9999s", ""), " ", "$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0")`, "the result would be too large"},
		{`setproduct(range(1000), range(1000), range(1000))`, "the product would have more than"},
		{`join(format("%9999s", ""), range(1000))`, "the result would be too large"},
		{`bcrypt("x", 31)`, "cost must be a whole number from 4 to 14"},
		{`bcrypt("x", 10, 11)`, "bcrypt takes a string and an optional cost"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			src := "job \"f\" {\n  meta {\n    r = " + tc.expr + "\n  }\n}\n"
			_, err := Parse("f.nomad.hcl", []byte(src), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	big := append([]byte("job \"x\" {}\n#"), make([]byte, maxSourceBytes)...)
	if _, err := Parse("big.hcl", big, nil); err == nil || !strings.Contains(err.Error(), "Job file too large") {
		t.Fatalf("big file: err = %v", err)
	}
}

// TestBcrypt checks that bcrypt's hashes verify against the string they
// hash, and that two calls salt differently, as Nomad documents.
func TestBcrypt(t *testing.T) {
	src := "job \"f\" {\n  meta {\n    a = bcrypt(\"hunter2\", 5)\n    b = bcrypt(\"hunter2\", 5)\n  }\n}\n"
	job, err := Parse("f.nomad.hcl", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := job.Meta["a"], job.Meta["b"]
	if a == b {
		t.Fatalf("two calls gave the same hash %q: the salt is not random", a)
	}
	for _, h := range []string{a, b} {
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte("hunter2")); err != nil {
			t.Fatalf("hash %q does not verify: %v", h, err)
		}
		if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != 5 {
			t.Fatalf("hash %q: cost %d, %v", h, cost, err)
		}
	}
}

// testRSAKey returns a fresh PEM RSA key and the base64 PKCS #1 v1.5
// ciphertext of "secret" for it.
func testRSAKey(t *testing.T) (string, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 rsadecrypt's input format
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &k.PublicKey, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	return string(pemKey), base64.StdEncoding.EncodeToString(ct)
}
