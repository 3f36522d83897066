"""Tool output recorded on a development machine (python 3.11, pytest, javac, gcc, cargo,
go, node/npm, pip), or written in the exact format the tool prints. Never from a data set."""

from __future__ import annotations

from pathlib import Path

PYTEST = """\
============================= test session starts ==============================
collected 1 item

test_cfg.py F                                                            [100%]

=================================== FAILURES ===================================
______________________________ test_parse_config _______________________________

    def test_parse_config():
>       assert parse("a=1") == {"a": 2}
E       AssertionError: assert {'a': 1} == {'a': 2}
E<TRAILING>
E         Differing items:
E         {'a': 1} != {'a': 2}
E         Use -v to get more diff

test_cfg.py:6: AssertionError
=========================== short test summary info ============================
FAILED test_cfg.py::test_parse_config - AssertionError: assert {'a': 1} == {'...
1 failed in 1.30s
""".replace("<TRAILING>", " " * 9)

PYTHON_TRACEBACK = """\
Traceback (most recent call last):
  File "/tmp/rec/t.py", line 5, in <module>
    load("/nonexistent/config.json")
  File "/tmp/rec/t.py", line 3, in load
    with open(p) as f:
         ^^^^^^^
FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/config.json'
"""

JAVAC = """\
Main.java:3: error: incompatible types: String cannot be converted to int
        int x = "hello";
                ^
Main.java:4: error: cannot find symbol
        System.out.println(y);
                           ^
  symbol:   variable y
  location: class Main
2 errors
"""

GCC = """\
bad.c: In function ‘main’:
bad.c:2:26: error: ‘undefined_var’ undeclared (first use in this function)
    2 | int main(void) { int x = undefined_var; return x }
      |                          ^~~~~~~~~~~~~
bad.c:2:26: note: each undeclared identifier is reported only once for each function it appears in
"""

# `make` with gcc 12 and -Werror: the flag's name is in the diagnostic, not a negation of it.
# (A `\` at a line's end continues it: the recorded line is longer than this file's limit.)
GCC_WERROR = """\
cc -O2 -Wall -Werror -c -o build/fastcsv.o fastcsv.c
fastcsv.c: In function ‘count’:
fastcsv.c:2:12: error: implicit declaration of function ‘trailing_empty’ \
[-Werror=implicit-function-declaration]
    2 |     return trailing_empty(line);
      |            ^~~~~~~~~~~~~~
cc1: all warnings being treated as errors
make: *** [Makefile:2: build/fastcsv.o] Error 1
"""

CARGO = """\
   Compiling crate1 v0.1.0 (/tmp/rec/crate1)
error[E0425]: cannot find value `y` in this scope
 --> src/main.rs:3:20
  |
3 |     println!("{}", y);
  |                    ^
  |

For more information about this error, try `rustc --explain E0425`.
error: could not compile `crate1` (bin "crate1") due to 1 previous error
"""

GO_TEST = """\
=== RUN   TestAdd
--- FAIL: TestAdd (0.00s)
    calc_test.go:6: Add(2, 3) = -1, want 5
FAIL
FAIL	example.com/calc	0.003s
FAIL
"""

NODE_ASSERT = """\
> p@1.0.0 test
> node test.js

node:assert:90
  throw new AssertionError(obj);
  ^

AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:

2 !== 3

    at Object.<anonymous> (/tmp/rec/npmproj/test.js:2:8)
    at Module._compile (node:internal/modules/cjs/loader:1521:14)
    at node:internal/main/run_main_module:28:49 {
  generatedMessage: true,
  code: 'ERR_ASSERTION',
}

Node.js v20.20.2
"""

NPM_404 = """\
npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/this-package-does-not-exist-xyz
npm error 404
npm error 404  The requested resource 'this-package-does-not-exist-xyz@*' could not be found
npm error A complete log of this run can be found in:\
 /root/.npm/_logs/2026-11-27T06_27_48_002Z-debug-0.log
"""

PIP = """\
Looking in links: /opt/wheels
ERROR: Could not find a version that satisfies the requirement nonexistent-pkg==1.0 (from\
 versions: none)
ERROR: No matching distribution found for nonexistent-pkg==1.0
"""

DOCKER_BUILD = """\
Step 4/7 : RUN pip install -r requirements.txt
 ---> Running in 3f2a9c1b7d4e
ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'requirements.txt'
The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1
"""

GCLOUD_PERMISSION = """\
Deploying container to Cloud Run service [api] in project [demo] region [us-central1]
ERROR: (gcloud.run.deploy) PERMISSION_DENIED: Permission 'run.services.get' denied on\
 resource 'namespaces/demo/services/api' (or resource may not exist).
"""

TERRAFORM = """\
google_storage_bucket.logs: Creating...
╷
│ Error: Error creating bucket logs: googleapi: Error 409: Your previous request to\
 create the named bucket succeeded and you already own it., conflict
│
│   with google_storage_bucket.logs,
│   on main.tf line 12, in resource "google_storage_bucket" "logs":
│   12: resource "google_storage_bucket" "logs" {
│
╵
"""

MAVEN_SUREFIRE = """\
[INFO] Running com.example.CalcTest
[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.05 s <<<\
 FAILURE! - in com.example.CalcTest
[ERROR] addsNumbers(com.example.CalcTest)  Time elapsed: 0.01 s  <<< FAILURE!
org.opentest4j.AssertionFailedError: expected: <5> but was: <-1>
	at com.example.CalcTest.addsNumbers(CalcTest.java:12)
"""

OOM = """\
<--- Last few GCs --->
FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory
"""

DISK = """\
write /var/lib/docker/tmp/GetImageBlob123: no space left on device
cp: error writing 'build/out.bin': No space left on device
"""

TIMEOUT = """\
Error: Timeout of 2000ms exceeded. For async tests and hooks, ensure "done()" is called
context deadline exceeded
"""

# Recorded with cargo (rustc 1.95): a build script whose configure step fails (paths rewritten).
CARGO_BUILD_SCRIPT = """\
   Compiling bsdemo v0.1.0 (/work/demo)
error: failed to run custom build command for `bsdemo v0.1.0 (/work/demo)`
note: To improve backtraces for build dependencies, set the \
CARGO_PROFILE_DEV_BUILD_OVERRIDE_DEBUG=true environment variable to enable debug information \
generation.

Caused by:
  process didn't exit successfully: `/work/demo/target/debug/build/bsdemo-5fb0fd02/\
build-script-build` (exit status: 101)
  --- stdout
  checking for gcc... no

  --- stderr
  configure: error: no acceptable C compiler found in $PATH

  thread 'main' (27401) panicked at build.rs:6:32:
  configure failed with exit status: 77
  stack backtrace:
     0: __rustc::rust_begin_unwind
               at /rustc/5980761/library/std/src/panicking.rs:689:5
     1: core::panicking::panic_fmt
               at /rustc/5980761/library/core/src/panicking.rs:80:14
     2: build_script_build::main
     3: core::ops::function::FnOnce::call_once
  note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.
"""

# Written in the format `mix run` prints for an uncaught throw or exception.
ELIXIR = """\
[debug] Checking entries.
** (RuntimeError) entries not in alphabetical order: "zeta" before "alpha"
    check.exs:9: Checker.ensure_order!/1
    check.exs:30: anonymous fn/2 in Checker.run/1
    (elixir 1.15.7) lib/enum.ex:2510: Enum."-reduce/3-lists^foldl/2-0-"/3
    (elixir 1.15.7) lib/code.ex:1435: Code.require_file/2
"""

# Recorded with python 3.11: an exception raised while handling another, chained with `from`.
PYTHON_CHAINED = """\
Traceback (most recent call last):
  File "/tmp/chain.py", line 6, in load
    with open(path) as handle:
         ^^^^^^^^^^
FileNotFoundError: [Errno 2] No such file or directory: 'settings.json'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/tmp/chain.py", line 14, in main
    load("settings.json")
  File "/tmp/chain.py", line 9, in load
    raise RuntimeError(f"config {path} missing") from err
RuntimeError: config settings.json missing

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/tmp/chain.py", line 19, in <module>
    main()
  File "/tmp/chain.py", line 16, in main
    raise SystemExit(int("x"))
                     ^^^^^^^^
ValueError: invalid literal for int() with base 10: 'x'
"""

# Written in the format `mix test` (ExUnit) prints for a failing test: the failure is indented.
EXUNIT = """\
..........

  1) test parses the header (Parser.HeaderTest)
     test/parser/header_test.exs:12
     ** (ArgumentError) argument error
     stacktrace:
       :erlang.binary_to_integer("x1")
       test/parser/header_test.exs:14: (test)

..............................

Finished in 1.2 seconds (0.3s async, 0.9s sync)
42 tests, 1 failure

Randomized with seed 731904
"""

# Written in the format mocha's spec reporter prints: the failures are listed below "N failing".
MOCHA = """\
  parser
    ✓ reads a header
    1) rejects an empty body


  1 passing (12ms)
  1 failing

  1) parser
       rejects an empty body:
     AssertionError [ERR_ASSERTION]: Missing expected exception.
      at Context.<anonymous> (test/parser.test.js:14:12)
      at process.processImmediate (node:internal/timers:478:21)

"""

# Written in the format Pester (PowerShell) prints: `[-]` marks a failed test.
PESTER = """\
Describing Export-Report
  Context Writing files
    [+] creates the output folder 41ms
    [-] writes a summary 12ms
      Expected 'summary.xml' to exist, but it was not found.
      at <ScriptBlock>, /build/tests/Export.Tests.ps1: line 22
    [+] overwrites an existing file 8ms
Tests completed in 1.02s
Tests Passed: 2, Failed: 1, Skipped: 0, Pending: 0, Inconclusive: 0
"""

# Written in the format awesome_bot (a link checker) prints: no error word at all.
AWESOME_BOT = """\
Checking URLs: ✓✓✓x✓
Checking white listed URLs: ✓

> White listed:
  1. [L0012] 200 https://example.org/badge.svg

Issues :-(
> Links
  1. [L0153] 404 https://example.com/gone
> Dupes
  None ✓

Wrote results to ab-results-README.md.json
Wrote filtered results to ab-results-README.md-filtered.json
"""

# Written in the format size-limit prints when a bundle is too big.
SIZE_LIMIT = """\
  Package size limit has exceeded by 4.72 KB
  Size limit:   110 KB
  Package size: 114.72 KB with all dependencies, minified and gzipped

  Try to reduce size or increase limit in "size-limit" section of package.json
error Command failed with exit code 3.
"""

# Recorded with npm 10 (`npm ci` with a stale lock file): the error, then the whole help text.
NPM_CI_LOCKFILE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "builds" / "npm-error" / "tool-output.txt"
).read_text()

# Recorded with pytest 9 (two failing tests, one with captured output, one passing).
PYTEST_REPORT = """\
============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-9.2.0, pluggy-1.7.0
rootdir: /src
plugins: timeout-2.4.0, anyio-4.16.0, hypothesis-6.170.17, schemathesis-4.32.5
collected 3 items

test_shop.py FF.                                                         [100%]

=================================== FAILURES ===================================
______________________________ test_price_of_two _______________________________

    def test_price_of_two():
        print("pricing two items")
>       assert price(2) == 7
E       assert 6 == 7
E        +  where 6 = price(2)

test_shop.py:6: AssertionError
----------------------------- Captured stdout call -----------------------------
pricing two items
______________________________ test_price_of_zero ______________________________

    def test_price_of_zero():
>       assert price(0) == 1
E       assert 0 == 1
E        +  where 0 = price(0)

test_shop.py:9: AssertionError
=========================== short test summary info ============================
FAILED test_shop.py::test_price_of_two - assert 6 == 7
FAILED test_shop.py::test_price_of_zero - assert 0 == 1
========================= 2 failed, 1 passed in 0.07s ==========================
"""

# Recorded with pytest 9 (twelve failing tests: a report longer than an excerpt).
PYTEST_LONG_REPORT = """\
============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-9.2.0, pluggy-1.7.0
rootdir: /src
plugins: timeout-2.4.0, anyio-4.16.0, hypothesis-6.170.17, schemathesis-4.32.5
collected 12 items

test_many.py FFFFFFFFFFFF                                                [100%]

=================================== FAILURES ===================================
________________________________ test_square[0] ________________________________

n = 0

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((0 * 0) + 1) == 0

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 0
context line one
context line two
________________________________ test_square[1] ________________________________

n = 1

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((1 * 1) + 1) == 1

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 1
context line one
context line two
________________________________ test_square[2] ________________________________

n = 2

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((2 * 2) + 1) == 4

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 2
context line one
context line two
________________________________ test_square[3] ________________________________

n = 3

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((3 * 3) + 1) == 9

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 3
context line one
context line two
________________________________ test_square[4] ________________________________

n = 4

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((4 * 4) + 1) == 16

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 4
context line one
context line two
________________________________ test_square[5] ________________________________

n = 5

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((5 * 5) + 1) == 25

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 5
context line one
context line two
________________________________ test_square[6] ________________________________

n = 6

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((6 * 6) + 1) == 36

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 6
context line one
context line two
________________________________ test_square[7] ________________________________

n = 7

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((7 * 7) + 1) == 49

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 7
context line one
context line two
________________________________ test_square[8] ________________________________

n = 8

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((8 * 8) + 1) == 64

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 8
context line one
context line two
________________________________ test_square[9] ________________________________

n = 9

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((9 * 9) + 1) == 81

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 9
context line one
context line two
_______________________________ test_square[10] ________________________________

n = 10

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((10 * 10) + 1) == 100

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 10
context line one
context line two
_______________________________ test_square[11] ________________________________

n = 11

    @pytest.mark.parametrize("n", range(12))
    def test_square(n):
        print(f"checking square of {n}")
        print("context line one")
        print("context line two")
        expected = {i: i * i for i in range(12)}
>       assert n * n + 1 == expected[n]
E       assert ((11 * 11) + 1) == 121

test_many.py:9: AssertionError
----------------------------- Captured stdout call -----------------------------
checking square of 11
context line one
context line two
=========================== short test summary info ============================
FAILED test_many.py::test_square[0] - assert ((0 * 0) + 1) == 0
FAILED test_many.py::test_square[1] - assert ((1 * 1) + 1) == 1
FAILED test_many.py::test_square[2] - assert ((2 * 2) + 1) == 4
FAILED test_many.py::test_square[3] - assert ((3 * 3) + 1) == 9
FAILED test_many.py::test_square[4] - assert ((4 * 4) + 1) == 16
FAILED test_many.py::test_square[5] - assert ((5 * 5) + 1) == 25
FAILED test_many.py::test_square[6] - assert ((6 * 6) + 1) == 36
FAILED test_many.py::test_square[7] - assert ((7 * 7) + 1) == 49
FAILED test_many.py::test_square[8] - assert ((8 * 8) + 1) == 64
FAILED test_many.py::test_square[9] - assert ((9 * 9) + 1) == 81
FAILED test_many.py::test_square[10] - assert ((10 * 10) + 1) == 100
FAILED test_many.py::test_square[11] - assert ((11 * 11) + 1) == 121
============================== 12 failed in 0.08s ==============================
"""

# Recorded with `python -m unittest -v` (3.11): the progress list, then the report.
UNITTEST_VERBOSE = """\
test_empty (test_units.Cart.test_empty) ... FAIL
test_fine (test_units.Cart.test_fine) ... ok
test_total (test_units.Cart.test_total) ... FAIL

======================================================================
FAIL: test_empty (test_units.Cart.test_empty)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/src/test_units.py", line 8, in test_empty
    self.assertTrue([])
AssertionError: [] is not true

======================================================================
FAIL: test_total (test_units.Cart.test_total)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/src/test_units.py", line 5, in test_total
    self.assertEqual(sum([1, 2]), 4)
AssertionError: 3 != 4

----------------------------------------------------------------------
Ran 3 tests in 0.001s

FAILED (failures=2)
"""

# Recorded with prove (Perl's TAP harness, as git's test suite runs it): a failing script.
PROVE = """\
t/t0001-basic.sh ..<SP>
Dubious, test returned 1 (wstat 256, 0x100)
Failed 1/3 subtests<SP>
t/t0002-other.sh .. ok

Test Summary Report
-------------------
t/t0001-basic.sh (Wstat: 256 (exited 1) Tests: 3 Failed: 1)
  Failed test:  3
  Non-zero exit status: 1
Files=2, Tests=5,  0 wallclock secs ( 0.02 usr +  0.00 sys =  0.02 CPU)
Result: FAIL
""".replace("<SP>", " ")

# A failing `npm test`: the script's output recorded with npm 11, then the lifecycle report in
# the exact format npm 6 prints after it (npm 11 prints none).
NPM_LIFECYCLE = """\

> shop@1.0.0 test
> node lint.js

lint: checking 3 files
  src/cart.js:12:5: 'total' is assigned a value but never used. (no-unused-vars)
  src/cart.js:40:1: Expected indentation of 2 spaces but found 4. (indent)
  src/pay.js:7:10: 'fetch' is not defined. (no-undef)
3 problems
npm ERR! code ELIFECYCLE
npm ERR! errno 1
npm ERR! shop@1.0.0 test: `node lint.js`
npm ERR! Exit status 1
npm ERR!
npm ERR! Failed at the shop@1.0.0 test script.
npm ERR! This is probably not a problem with npm. There is likely additional logging output above.

npm ERR! A complete log of this run can be found in:
npm ERR!     /home/travis/.npm/_logs/2019-06-23T13_24_35_123Z-debug.log
"""

# Recorded with go 1.2x (`go test -v`, a failing subtest): messages print where they happen.
GO_SUBTESTS = """\
=== RUN   TestSorted
=== RUN   TestSorted/Books
=== RUN   TestSorted/Meetups
    links_test.go:16: expected 'golang auckland' but actual is 'golang boston'
=== RUN   TestSorted/Tools
--- FAIL: TestSorted (0.00s)
    --- PASS: TestSorted/Books (0.00s)
    --- FAIL: TestSorted/Meetups (0.00s)
    --- PASS: TestSorted/Tools (0.00s)
FAIL
FAIL	example.com/links	0.004s
FAIL
"""

# The same run in the exact format go 1.13 and older print: each subtest's messages nested
# under its own result, below the parent's `--- FAIL:`.
GO_SUBTESTS_NESTED = """\
=== RUN   TestSorted
=== RUN   TestSorted/Books
=== RUN   TestSorted/Meetups
=== RUN   TestSorted/Tools
--- FAIL: TestSorted (0.00s)
    --- PASS: TestSorted/Books (0.00s)
    --- FAIL: TestSorted/Meetups (0.00s)
        links_test.go:16: expected 'golang auckland' but actual is 'golang boston'
    --- PASS: TestSorted/Tools (0.00s)
FAIL
FAIL	example.com/links	0.004s
FAIL
"""

# Recorded with `ruff format --diff` (a formatter's check: a diff, no error words).
FORMAT_DIFF = """\
--- cart.py
+++ cart.py
@@ -1,6 +1,5 @@
 def total(items):
-    return sum( [i.price for i in items] )
-
+    return sum([i.price for i in items])
<SP>
<SP>
-x = {  "a":1 }
+x = {"a": 1}

1 file would be reformatted
""".replace("<SP>", " ")

# Written in the exact format PHP's run-tests.php prints with --show-diff (php-src, PECL).
PHPT = """\
=====================================================================
Running selected tests.
PASS Basic addition [tests/add.phpt]
SKIP Locale sort (setlocale fails) [tests/locale.phpt] reason: setlocale() failed
========DIFF========
001+ float(9.2233720368548E+18)
001- int(9223372036854775807)
========DONE========
FAIL Addition overflows to float [tests/overflow.phpt]
PASS Subtraction [tests/sub.phpt]
=====================================================================
Number of tests :    4                 3
Tests skipped   :    1 ( 25.0%) --------
Tests failed    :    1 ( 25.0%) ( 33.3%)
Tests passed    :    2 ( 50.0%) ( 66.7%)
=====================================================================
"""

# Written in the exact format xcpretty prints for `xcodebuild test`: progress, then its summary
# (suite, then each failure's test, reason, file:line and the code around it).
XCPRETTY = """\
All tests
Test Suite CartTests.xctest started
CartTests
    ✓ testAddsItem (0.002 seconds)
    ✗ testTotalIncludesTax, XCTAssertEqual failed: ("10.0") is not equal to ("10.8")
    ✓ testRemovesItem (0.001 seconds)
    ✗ testEmptyCartTotalIsZero, XCTAssertTrue failed


CartTests
  testTotalIncludesTax, XCTAssertEqual failed: ("10.0") is not equal to ("10.8")
  /Users/ci/shop/Tests/CartTests.swift:21
  ```
        cart.add(Item(price: 10))
        XCTAssertEqual(cart.total, 10.8)
    }
  ```

  testEmptyCartTotalIsZero, XCTAssertTrue failed
  /Users/ci/shop/Tests/CartTests.swift:30
  ```
        let cart = Cart()
        XCTAssertTrue(cart.total == 0)
    }
  ```


<TAB> Executed 4 tests, with 2 failures (0 unexpected) in 0.012 (0.015) seconds

Testing failed:
<TAB>Test session results, code coverage, and logs: /Users/ci/Library/Logs/Test.xcresult
** TEST FAILED **
""".replace("<TAB>", "\t")

# `yarn test` (yarn 1.22) running two scripts with `;`: the first fails, the second runs anyway
# and fails with a summary. yarn echoes each script as `$ cmd`, like a CI system's command line.
YARN_SCRIPTS = """\
yarn run v1.22.22
warning ../package.json: No license field
$ yarn build; yarn e2e
warning ../package.json: No license field
$ node build.js
<anonymous_script>:1
{"port": 8080,}
              ^

SyntaxError: Expected double-quoted property name in JSON at position 14
    at JSON.parse (<anonymous>)
    at Object.<anonymous> (/home/dev/shop/build.js:2:6)
    at Module._compile (node:internal/modules/cjs/loader:1521:14)
    at Module._extensions..js (node:internal/modules/cjs/loader:1623:10)
    at Module.load (node:internal/modules/cjs/loader:1266:32)
    at Module._load (node:internal/modules/cjs/loader:1091:12)
    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:164:12)
    at node:internal/main/run_main_module:28:49

Node.js v20.20.2
error Command failed with exit code 1.
info Visit https://yarnpkg.com/en/docs/cli/run for documentation about this command.
warning ../package.json: No license field
$ node e2e.js
Running 3 e2e specs
Suites failed: 1
error Command failed with exit code 1.
info Visit https://yarnpkg.com/en/docs/cli/run for documentation about this command.
error Command failed with exit code 1.
info Visit https://yarnpkg.com/en/docs/cli/run for documentation about this command.
"""

# `standard` 17 on 25 files: a finding list longer than a screen, with no error words in it.
STANDARD_LINT = """\
standard: Use JavaScript Standard Style (https://standardjs.com)
standard: Run `standard --fix` to automatically fix some problems.
  /src/cart/lib/mod1.js:1:5: 'unused1' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod1.js:1:5: 'unused1' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod10.js:1:5: 'unused10' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod10.js:1:5: 'unused10' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod11.js:1:5: 'unused11' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod11.js:1:5: 'unused11' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod12.js:1:5: 'unused12' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod12.js:1:5: 'unused12' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod13.js:1:5: 'unused13' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod13.js:1:5: 'unused13' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod14.js:1:5: 'unused14' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod14.js:1:5: 'unused14' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod15.js:1:5: 'unused15' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod15.js:1:5: 'unused15' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod16.js:1:5: 'unused16' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod16.js:1:5: 'unused16' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod17.js:1:5: 'unused17' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod17.js:1:5: 'unused17' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod18.js:1:5: 'unused18' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod18.js:1:5: 'unused18' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod19.js:1:5: 'unused19' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod19.js:1:5: 'unused19' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod2.js:1:5: 'unused2' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod2.js:1:5: 'unused2' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod20.js:1:5: 'unused20' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod20.js:1:5: 'unused20' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod21.js:1:5: 'unused21' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod21.js:1:5: 'unused21' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod22.js:1:5: 'unused22' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod22.js:1:5: 'unused22' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod23.js:1:5: 'unused23' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod23.js:1:5: 'unused23' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod24.js:1:5: 'unused24' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod24.js:1:5: 'unused24' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod25.js:1:5: 'unused25' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod25.js:1:5: 'unused25' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod3.js:1:5: 'unused3' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod3.js:1:5: 'unused3' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod4.js:1:5: 'unused4' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod4.js:1:5: 'unused4' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod5.js:1:5: 'unused5' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod5.js:1:5: 'unused5' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod6.js:1:5: 'unused6' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod6.js:1:5: 'unused6' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod7.js:1:5: 'unused7' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod7.js:1:5: 'unused7' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod8.js:1:5: 'unused8' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod8.js:1:5: 'unused8' is never reassigned. Use 'const' instead. (prefer-const)
  /src/cart/lib/mod9.js:1:5: 'unused9' is assigned a value but never used. (no-unused-vars)
  /src/cart/lib/mod9.js:1:5: 'unused9' is never reassigned. Use 'const' instead. (prefer-const)
"""


# javac -Xlint:all -Werror App.java (OpenJDK 17): warnings that -Werror made fatal.
JAVAC_WERROR = """\
App.java:6: warning: [rawtypes] found raw type: List
        List names = new ArrayList();
        ^
  missing type arguments for generic class List<E>
  where E is a type-variable:
    E extends Object declared in interface List
App.java:6: warning: [rawtypes] found raw type: ArrayList
        List names = new ArrayList();
                         ^
  missing type arguments for generic class ArrayList<E>
  where E is a type-variable:
    E extends Object declared in class ArrayList
App.java:7: warning: [unchecked] unchecked call to add(E) as a member of the raw type List
        names.add("a");
                 ^
  where E is a type-variable:
    E extends Object declared in interface List
App.java:8: warning: [removal] Integer(int) in Integer has been deprecated and marked for removal
        Integer boxed = new Integer(3);
                        ^
error: warnings found and -Werror specified
1 error
4 warnings
"""

# prove t/ 2>&1 (Perl 5.36, Test::More): the failed tests' diagnostics on stderr came first.
PROVE_DIAGNOSTICS = """\

#   Failed test 'adds numbers'
#   at t/basic.t line 4.
#          got: '4'
#     expected: '5'

#   Failed test 'builds the list'
#   at t/basic.t line 5.
#     Structures begin differing at:
#          $got->[1] = '2'
#     $expected->[1] = '3'
# Looks like you failed 2 tests of 3.
t/basic.t ..<SP>
Dubious, test returned 2 (wstat 512, 0x200)
Failed 2/3 subtests<SP>
t/other.t .. ok

Test Summary Report
-------------------
t/basic.t (Wstat: 512 (exited 2) Tests: 3 Failed: 2)
  Failed tests:  2-3
  Non-zero exit status: 2
Files=2, Tests=5,  1 wallclock secs ( 0.01 usr  0.01 sys +  0.05 cusr  0.02 csys =  0.09 CPU)
Result: FAIL
""".replace("<SP>", " ")
