"""Meta-learning: few-shot episodes, MAML, Reptile and Prototypical Networks."""
