vm "q" {
  target {
    name = "ab\u202ecd"
  }
}
