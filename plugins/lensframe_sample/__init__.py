"""Standard samplers of lensframe: emcee, NUTS (blackjax) and nautilus."""
