// placeholder removed as the target fills
