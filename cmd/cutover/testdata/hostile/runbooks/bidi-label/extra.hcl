vm "ab‮cd" {
}
