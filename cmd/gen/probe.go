package main

import "errors"

func cmdProbe(args []string) error { return errors.New("probe: not yet") }
