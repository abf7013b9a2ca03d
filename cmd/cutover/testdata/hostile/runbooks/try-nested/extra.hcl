locals {
  x = try(try(try(try(try(try(try(try(try(try(1))))))))))
}
