vmm "x" { # ERROR: Unsupported block type
}
