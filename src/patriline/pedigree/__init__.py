"""patriline.pedigree"""
