# Sourced by the bench scripts: the complete prepaid call they measure.
# shellcheck shell=bash

# One prepaid scenario: a load subscriber calls another by extension; hold time simulated.
scenario() { # $1 = file, $2 = hold seconds
    cat >"$1" <<EOF
[defaults]
hold = { constant = $2 }
[[range]]
name = "us_load"
first_number = "12125560000"
first_extension = "2000"
count = 5000
[[scenario]]
name = "prepaid_call"
calling = { range = "us_load" }
called = { range = "us_load", dial = "extension" }
expect = "connect"
apply_charging = true
reports = 1
EOF
}
