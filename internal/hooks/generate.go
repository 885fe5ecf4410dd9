package hooks

//go:generate sh testdata/build.sh
