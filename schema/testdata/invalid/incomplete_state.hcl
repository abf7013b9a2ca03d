state { # ERROR: Incomplete azurerm state
  backend = "azurerm"
  key     = "wave1"
}
